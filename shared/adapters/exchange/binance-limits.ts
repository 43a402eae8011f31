/**
 * Binance spot's request limits as the shared rate budget counts them (RISK-6): the weight of
 * each HTTP request (per IP, per minute) and the orders it places (per account, per 10 s and per
 * day). Other exchanges weigh 1 per request and count 1 order per POST.
 */

/** Weight of one HTTP request against the exchange's limit. */
export type RequestWeight = (method: string, url: string) => number;
/** Orders one HTTP request places, against the exchange's order-count limits. */
export type RequestOrders = (method: string, url: string) => number;

/**
 * Binance spot request weights (per IP, per minute; api/v3 documentation). Unknown endpoints
 * weigh 1; ccxt's own limiter still spaces them.
 */
export const binanceSpotWeight: RequestWeight = (method, url) => {
  const { pathname, searchParams } = new URL(url);
  const path = pathname.replace(/^\/api\/v3\//, '');
  const upper = method.toUpperCase();
  switch (path) {
    case 'exchangeInfo':
      return 20;
    case 'klines':
      return 2;
    case 'ticker/24hr': {
      if (searchParams.has('symbol')) return 2;
      const symbols = searchParams.get('symbols');
      if (symbols === null) return 80;
      const count = symbols.split(',').length;
      return count <= 20 ? 2 : count <= 100 ? 40 : 80;
    }
    case 'order':
      return upper === 'GET' ? 4 : 1;
    case 'openOrders':
      return upper === 'GET' && !searchParams.has('symbol') ? 80 : upper === 'GET' ? 6 : 1;
    case 'allOrders':
    case 'account':
    case 'myTrades':
      return 20;
    default:
      return 1;
  }
};

/**
 * Orders counted by Binance's ORDERS limits (per account, per 10 s and per day): a new order
 * counts 1, an order list (OCO, OTO) 2; cancels and reads count none.
 */
export const binanceSpotOrders: RequestOrders = (method, url) => {
  if (method.toUpperCase() !== 'POST') return 0;
  const path = new URL(url).pathname.replace(/^\/api\/v3\//, '');
  if (path === 'order' || path === 'order/cancelReplace') return 1;
  if (path === 'order/oco' || path.startsWith('orderList/')) return 2;
  return 0;
};
