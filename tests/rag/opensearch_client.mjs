// The npm OpenSearch client (@opensearch-project/opensearch, pinned by
// package-lock.json) against `sagebox serve`'s /opensearch/ prefix: create an
// index with a knn_vector mapping, _bulk documents, knn-search, _count, a 404
// for a missing index, delete. Usage: node opensearch_client.mjs URL
// (URL = http://127.0.0.1:PORT/opensearch; the client joins the node URL's
// path with each request's, Connection.buildRequestObject).
import assert from 'node:assert/strict';
import { Client, errors } from '@opensearch-project/opensearch';

const node = process.argv[2];
const client = new Client({ node });
const index = 'movies';
let passed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok ${name}`);
  } catch (e) {
    console.error(`FAIL ${name}: ${e.stack || e}`);
    if (e.meta) console.error(JSON.stringify(e.meta.body));
    console.log(`${passed} passed, 1 failed`);
    process.exit(1);
  }
}

await check('info', async () => {
  const { body } = await client.info();
  assert.equal(body.version.distribution, 'opensearch');
  assert.match(body.version.number, /^2\./);
});

await check('exists before create', async () => {
  const { body, statusCode } = await client.indices.exists({ index });
  assert.equal(statusCode, 404);
  assert.equal(body, false);
});

await check('create', async () => {
  const { body } = await client.indices.create({
    index,
    body: {
      settings: { index: { knn: true } },
      mappings: {
        properties: {
          embedding: {
            type: 'knn_vector',
            dimension: 3,
            method: { name: 'hnsw', space_type: 'l2', engine: 'nmslib' },
          },
          title: { type: 'text' },
          genre: { type: 'keyword' },
        },
      },
    },
  });
  assert.equal(body.acknowledged, true);
  assert.equal(body.index, index);
});

await check('create again is resource_already_exists_exception', async () => {
  await assert.rejects(client.indices.create({ index }), (e) => {
    assert.ok(e instanceof errors.ResponseError);
    assert.equal(e.statusCode, 400);
    assert.equal(e.body.error.type, 'resource_already_exists_exception');
    return true;
  });
});

const docs = [
  { id: '1', title: 'The Matrix', genre: 'scifi', embedding: [1, 0, 0] },
  { id: '2', title: 'Notting Hill', genre: 'romance', embedding: [0, 1, 0] },
  { id: '3', title: 'Blade Runner', genre: 'scifi', embedding: [0.9, 0.1, 0] },
];

await check('bulk', async () => {
  const body = docs.flatMap(({ id, ...doc }) => [{ index: { _index: index, _id: id } }, doc]);
  // One vector of the wrong dimension: that item fails, the others succeed.
  body.push({ index: { _index: index, _id: 'bad' } }, { title: 'Broken', embedding: [1, 2] });
  const res = await client.bulk({ body, refresh: true });
  assert.equal(res.body.errors, true);
  assert.deepEqual(res.body.items.map((i) => i.index.status), [201, 201, 201, 400]);
  assert.equal(res.body.items[3].index.error.type, 'mapper_parsing_exception');
});

await check('knn search', async () => {
  const { body } = await client.search({
    index,
    body: { size: 2, query: { knn: { embedding: { vector: [1, 0, 0], k: 2 } } } },
  });
  assert.deepEqual(body.hits.hits.map((h) => h._id), ['1', '3']);
  // l2: 1 / (1 + d²); d² = 0 and 0.01 + 0.01 = 0.02.
  assert.ok(Math.abs(body.hits.hits[0]._score - 1) < 1e-6);
  assert.ok(Math.abs(body.hits.hits[1]._score - 1 / 1.02) < 1e-6);
  assert.equal(body.hits.hits[0]._source.title, 'The Matrix');
});

await check('knn search with an efficient filter', async () => {
  const { body } = await client.search({
    index,
    body: {
      size: 1,
      query: { knn: { embedding: { vector: [0, 1, 0], k: 1, filter: { term: { genre: 'scifi' } } } } },
    },
  });
  assert.deepEqual(body.hits.hits.map((h) => h._id), ['3']);
});

await check('count', async () => {
  const all = await client.count({ index });
  assert.deepEqual(all.body, {
    count: 3,
    _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
  });
  const scifi = await client.count({ index, body: { query: { term: { genre: 'scifi' } } } });
  assert.equal(scifi.body.count, 2);
});

await check('missing index is index_not_found_exception', async () => {
  await assert.rejects(client.search({ index: 'nope', body: { query: { match_all: {} } } }), (e) => {
    assert.equal(e.statusCode, 404);
    assert.equal(e.body.error.type, 'index_not_found_exception');
    assert.equal(e.body.error.reason, 'no such index [nope]');
    return true;
  });
});

await check('delete', async () => {
  const { body } = await client.indices.delete({ index });
  assert.equal(body.acknowledged, true);
  const exists = await client.indices.exists({ index });
  assert.equal(exists.body, false);
});

console.log(`${passed} passed, 0 failed`);
