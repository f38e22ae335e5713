// Preloaded (NODE_OPTIONS=--import) into a server a test starts: `localhost` resolves to both
// 127.0.0.1 and ::1, as on most distributions (this machine's /etc/hosts may list only one).
import dns from 'node:dns';
import process from 'node:process';

const lookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  if (host === 'localhost' && typeof options === 'object' && options !== null && options.all) {
    return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
  }
  return lookup.apply(this, arguments);
};
