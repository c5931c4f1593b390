// The quick-start example: publish a few order events and read them back, on the managed local
// Redis (or REDIS_URL). Mirrors the guide's XADD / XREAD / XTRIM steps.
import { connect } from '../src/index.js';

const sluice = await connect();
try {
  const orders = sluice.stream('events:orders', { retention: { maxLen: 10_000 } });
  console.log(`Redis: ${sluice.url}`);

  // XADD events:orders MAXLEN ~ 10000 * order_id 12345 customer_id 67890 amount 99.99 status pending
  const first = await orders.publish({ order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' });
  // Concurrent publishes are sent together as one pipelined batch.
  const more = await Promise.all([
    orders.publish({ order_id: '12346', customer_id: '67891', amount: '24.50', status: 'pending' }),
    orders.publish({ order_id: '12345', customer_id: '67890', amount: '99.99', status: 'paid' }),
    orders.publish({ order_id: '12346', customer_id: '67891', amount: '24.50', status: 'shipped' }),
  ]);
  console.log(`published ${1 + more.length} events, first ${first}`);

  // XREAD COUNT 100 STREAMS events:orders <id just before the first>: replay from our first event.
  for await (const event of orders.read({ from: new Date(Number(first.split('-')[0])) })) {
    console.log(JSON.stringify(event));
  }

  const info = await orders.info();
  console.log(`events:orders holds ${info.length} events in ${info.memoryBytes} bytes`);
} finally {
  await sluice.close();
}
