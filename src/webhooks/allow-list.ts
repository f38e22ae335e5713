import { isLoopback } from '../config.js';

/**
 * Where webhooks may be sent (spec/sandboxes.md section 3): so that nobody who can subscribe can
 * turn the store against other hosts, a target's host must be listed in WEBHOOK_ALLOWED_HOSTS
 * (host names and IP addresses, compared exactly; `loopback`, the default, stands for 127.0.0.0/8,
 * ::1 and localhost). Checked when subscribing (422) and again before every attempt, in case the
 * list changed across a restart.
 */
export class HostAllowList {
  private readonly loopback: boolean;
  private readonly hosts: Set<string>;

  constructor(readonly entries: string[]) {
    this.loopback = entries.includes('loopback');
    this.hosts = new Set(entries.filter((e) => e !== 'loopback'));
  }

  /** Whether a URL's hostname (as `URL.hostname` gives it: lower case, IPv6 in brackets) is allowed. */
  allows(hostname: string): boolean {
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    return this.hosts.has(host) || (this.loopback && isLoopback(host));
  }

  /** Why a target URL is refused, or undefined when it may be used: http(s) only, an allowed host. */
  problem(target: string): string | undefined {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return `url must be an absolute http(s) URL, got '${target}'`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `url must use http or https, got '${url.protocol.slice(0, -1)}'`;
    if (!this.allows(url.hostname)) {
      const allowed = this.entries.map((e) => (e === 'loopback' ? 'loopback (127.0.0.0/8, ::1, localhost)' : e)).join(', ') || 'nothing';
      return `Webhook host '${url.hostname}' is not allowed: WEBHOOK_ALLOWED_HOSTS allows ${allowed}`;
    }
    return undefined;
  }
}
