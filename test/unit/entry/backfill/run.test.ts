import { expect } from 'chai';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { listObjects } from '../../../../src/entry/backfill/run.ts';
import type { S3Sender } from '../../../../src/entry/backfill/core.ts';

/**
 * ListObjectsV2 paging. (The s3rver integration tests cannot page: its continuation tokens need DES, which Node 20's
 * OpenSSL 3 no longer provides.) The stand-in answers the way S3 does: MaxKeys keys per page, IsTruncated and an
 * opaque NextContinuationToken until the last page.
 */
function pagedBucket(keys: readonly string[]): { s3: S3Sender; inputs: Record<string, unknown>[] } {
  const inputs: Record<string, unknown>[] = [];
  const send = async (command: unknown) => {
    if (!(command instanceof ListObjectsV2Command)) throw new Error('unexpected command');
    const input = command.input;
    inputs.push({ ...input });
    const matching = keys.filter((k) => input.Prefix === undefined || k.startsWith(input.Prefix));
    const start = input.ContinuationToken === undefined ? 0 : Number(Buffer.from(input.ContinuationToken, 'base64').toString());
    const max = input.MaxKeys ?? 1000;
    const page = matching.slice(start, start + max);
    const truncated = start + max < matching.length;
    return {
      Contents: page.map((Key) => ({ Key })),
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: Buffer.from(String(start + max)).toString('base64') } : {}),
      KeyCount: page.length,
    };
  };
  return { s3: { send } as unknown as S3Sender, inputs };
}

describe('listObjects', () => {
  it('follows continuation tokens through every page and skips folder placeholders', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `AWSLogs/${i}.json.gz`);
    const { s3, inputs } = pagedBucket([...keys, 'AWSLogs/folder/', 'other/x.json.gz']);
    const listed: string[] = [];
    for await (const ref of listObjects(s3, { bucket: 'trail', prefix: 'AWSLogs/' }, 3)) listed.push(ref.key);
    expect(listed).to.deep.equal(keys);
    expect(inputs.map((i) => [i.Bucket, i.Prefix, i.MaxKeys, i.ContinuationToken !== undefined])).to.deep.equal([
      ['trail', 'AWSLogs/', 3, false],
      ['trail', 'AWSLogs/', 3, true],
      ['trail', 'AWSLogs/', 3, true],
    ]);
  });

  it('lists the whole bucket when the prefix is empty', async () => {
    const { s3, inputs } = pagedBucket(['a.json.gz', 'b.json.gz']);
    const listed: string[] = [];
    for await (const ref of listObjects(s3, { bucket: 'trail', prefix: '' }, 1000)) listed.push(ref.key);
    expect(listed).to.deep.equal(['a.json.gz', 'b.json.gz']);
    expect(inputs[0]!.Prefix).to.equal(undefined);
  });
});
