export interface BenchArgs {
  events: number;
  rounds: number;
  /** Backlog drained by the memory scenario (`consume-memory`). */
  backlog: number;
  /** Seconds of steady publishing the latency scenario measures, after its warm-up. */
  durationS: number;
  /** Seconds redis-server is down in the producer-redis-down scenario. */
  outageS: number;
  json: boolean;
  /** Scenario names to run; empty runs them all. */
  only: string[];
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [--events N] [--rounds N] [--backlog N] [--duration S] [--outage S] [--scenario NAME[,NAME…]] [--json]

  --events N      events per measured round of publish, consume and end-to-end (default 200000;
                  BullMQ's end-to-end rounds: a tenth, at most 20000); redis-memory: at most 100000
  --rounds N      measured rounds per method, alternating; the median is reported (default 5)
  --backlog N     events the consume-memory scenario drains, once per method (default 1000000)
  --duration S    seconds of steady 5,000 events/s the latency scenario measures per method,
                  split in two alternating rounds, after a warm-up (default 20)
  --outage S      seconds redis-server stays down in producer-redis-down (default 20)
  --scenario …    run only these scenarios (default: all)
  --json          print the results as one JSON object on the last line of stdout
                  (progress goes to stderr)

Starts its own redis-server on a free loopback port (no persistence) and stops it at the end.`;

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { events: 200_000, rounds: 5, backlog: 1_000_000, durationS: 20, outageS: 20, json: false, only: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`Expected a value after \`${flag}\`\n\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--events':
        args.events = wholeNumber(flag, value());
        break;
      case '--rounds':
        args.rounds = wholeNumber(flag, value());
        break;
      case '--backlog':
        args.backlog = wholeNumber(flag, value());
        break;
      case '--duration':
        args.durationS = wholeNumber(flag, value());
        break;
      case '--outage':
        args.outageS = wholeNumber(flag, value());
        break;
      case '--scenario':
        args.only.push(...value().split(',').filter(Boolean));
        break;
      case '--json':
        args.json = true;
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        throw new Error(`Unknown argument \`${arg}\`\n\n${USAGE}`);
    }
  }
  return args;
}

function wholeNumber(flag: string, text: string): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`Expected \`${flag}\` to be a whole number ≥ 1, got \`${text}\``);
  return n;
}
