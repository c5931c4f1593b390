/**
 * The guide's 4-field order event with values that vary from event to event as real orders do
 * (an order number, one of 50,000 customers, an amount, one of three statuses): what Redis stores
 * per entry depends on the values too, so a memory figure from one repeated event would flatter.
 */
export function orderAt(i: number): { order_id: string; customer_id: string; amount: string; status: string } {
  return {
    order_id: String(100_000 + i),
    customer_id: String(10_000 + ((i * 7919) % 50_000)),
    amount: (((i * 3137) % 100_000) / 100).toFixed(2),
    status: STATUSES[i % 3] as string,
  };
}

const STATUSES = ['pending', 'paid', 'shipped'];

/** The ordering key a user would give an order: its customer. */
export function orderKeyAt(i: number): string {
  return `customer:${orderAt(i).customer_id}`;
}
