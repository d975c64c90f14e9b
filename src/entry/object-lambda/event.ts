/**
 * The S3 Object Lambda event (GetObject), as documented for "Event context format and usage" (protocol 1.00).
 * Only the fields this function reads are typed; `@types/aws-lambda` has no type for it.
 */
export interface ObjectLambdaEvent {
  readonly xAmzRequestId?: string;
  readonly getObjectContext?: {
    /** Presigned URL of the original object, through the supporting access point. Needs no credentials. */
    readonly inputS3Url?: string;
    /** Where WriteGetObjectResponse must go (`RequestRoute`) and the one-use token tying it to the request. */
    readonly outputRoute?: string;
    readonly outputToken?: string;
  };
  readonly configuration?: { readonly accessPointArn?: string; readonly supportingAccessPointArn?: string; readonly payload?: string };
  readonly userRequest?: { readonly url?: string; readonly headers?: Readonly<Record<string, string>> };
  readonly protocolVersion?: string;
}

export type ParsedGetObject =
  | {
      readonly ok: true;
      readonly inputS3Url: string;
      readonly route: string;
      readonly token: string;
      /** The key the caller asked for (from the user request URL), when it can be read; used to spot digests early. */
      readonly key?: string;
      /** The caller sent a `Range` header / query parameter or a `partNumber` query parameter. */
      readonly ranged: boolean;
    }
  /** Without a route and token there is no way to answer the caller at all. */
  | { readonly ok: false; readonly reason: string; readonly route?: string; readonly token?: string };

export function parseObjectLambdaEvent(event: unknown): ParsedGetObject {
  const e = (event ?? {}) as ObjectLambdaEvent;
  const context = e.getObjectContext;
  const route = typeof context?.outputRoute === 'string' && context.outputRoute !== '' ? context.outputRoute : undefined;
  const token = typeof context?.outputToken === 'string' && context.outputToken !== '' ? context.outputToken : undefined;
  const inputS3Url = typeof context?.inputS3Url === 'string' && /^https?:\/\//.test(context.inputS3Url) ? context.inputS3Url : undefined;
  if (route === undefined || token === undefined)
    return { ok: false, reason: 'event has no getObjectContext route and token (not an Object Lambda GetObject event)' };
  if (inputS3Url === undefined) return { ok: false, reason: 'event has no getObjectContext.inputS3Url', route, token };
  const url = parseUrl(e.userRequest?.url);
  const headers = e.userRequest?.headers ?? {};
  const rangeHeader = Object.keys(headers).some((name) => name.toLowerCase() === 'range');
  const ranged =
    rangeHeader ||
    (url !== undefined &&
      [...url.searchParams.keys()].some((name) => name.toLowerCase() === 'range' || name.toLowerCase() === 'partnumber'));
  const key = url === undefined ? undefined : keyOf(url);
  return { ok: true, inputS3Url, route, token, ranged, ...(key !== undefined ? { key } : {}) };
}

function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function keyOf(url: URL): string | undefined {
  try {
    const key = decodeURIComponent(url.pathname.replace(/^\//, ''));
    return key === '' ? undefined : key;
  } catch {
    return undefined;
  }
}
