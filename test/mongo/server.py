#!/usr/bin/python3
"""MongoDB wire-protocol test server for recs_mongo_fdw.

No MongoDB server is packaged for Debian, so the foreign data wrapper's tests
talk to this one: MockupDB (MongoDB's OP_MSG server library) receives the
requests and an in-memory mongomock client answers them with MongoDB's query
semantics.  It speaks enough of the protocol for libmongoc and pymongo:

  hello / isMaster, ping, buildInfo, find and getMore (a real server-side
  cursor: batches are cut from a generator, so getMore returns the next
  batch), killCursors, count, aggregate, insert, update, delete,
  listCollections, listDatabases, create, drop, dropDatabase, endSessions,
  profile, and SCRAM-SHA-1 / SCRAM-SHA-256 authentication (saslStart,
  saslContinue) for one configured user.

Like a mongod started without --auth, it serves unauthenticated clients but
rejects a client that authenticates with the wrong credentials.

What the tests need beyond MongoDB:
  * A profiler: every find, aggregate, count, getMore, killCursors, insert,
    update and delete is recorded in the collection "system.profile" of its
    database, shaped like a real mongod's profiler entries ({op, ns, command,
    ts}), so a foreign table on system.profile shows what was pushed down,
    the same way it would against a mongod with profiling level 2.  --log
    also writes each entry as a JSON line to a file.
  * Failure injection by collection name: a getMore on a collection whose
    name starts with "hangup" closes the connection (a server dropping the
    connection mid-scan); a getMore on one whose name starts with "slow"
    sleeps --slow-ms milliseconds first (for statement_timeout and cancel),
    one on "stall..." --stall-s seconds (a server that stops answering); a
    find on "error..." fails with a server error.
  * Large generated collections for benchmarks, without storing them:
    the command {recsTestGenerate: "coll", n: N} makes "coll" a collection
    of N synthetic interaction documents produced on the fly.

Usage: server.py --port PORT [--ready-file FILE] [--log FILE]
                 [--user NAME --password SECRET] [--slow-ms MS] [--stall-s S]
The ready file is written once the port is listening; SIGTERM stops it.
"""

import argparse
import base64
import datetime
import errno
import hashlib
import hmac
import itertools
import json
import os
import random
import signal
import socket
import sys
import threading
import time
from collections import OrderedDict

import bson
import mockupdb
import mongomock
from bson import json_util
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from bson.int64 import Int64
from mongomock import filtering

MAX_WIRE_VERSION = 13           # MongoDB 5.0
DEFAULT_BATCH = 101             # documents in a first batch, as mongod
MAX_BATCH = 10000               # getMore without batchSize
SCRAM_ITERATIONS = 4096


def utcnow():
    return datetime.datetime.utcnow().replace(microsecond=0)


class Scram:
    """Server side of one SCRAM conversation (RFC 5802, RFC 7677)."""

    def __init__(self, mechanism, user, password):
        if mechanism == 'SCRAM-SHA-1':
            self.hash = hashlib.sha1
            # MongoDB's SCRAM-SHA-1 salts the MONGODB-CR digest.
            secret = hashlib.md5(('%s:mongo:%s' % (user, password)).encode()).hexdigest()
        else:
            self.hash = hashlib.sha256
            secret = password       # SASLprep is the identity for ASCII
        self.user = user
        self.salt = os.urandom(self.hash().digest_size - 4)
        self.salted = hashlib.pbkdf2_hmac(self.hash().name, secret.encode(),
                                          self.salt, SCRAM_ITERATIONS)
        self.first_bare = None
        self.server_first = None
        self.nonce = None

    @staticmethod
    def _fields(text):
        out = {}
        for part in text.split(','):
            if '=' in part:
                key, value = part.split('=', 1)
                out[key] = value
        return out

    def start(self, payload):
        """Client-first message in, server-first message out (or None)."""
        text = payload.decode()
        if not text.startswith('n,'):
            return None
        self.first_bare = text.split(',', 2)[2]
        fields = self._fields(self.first_bare)
        if fields.get('n') != self.user:
            return None
        self.nonce = fields['r'] + base64.b64encode(os.urandom(18)).decode()
        self.server_first = 'r=%s,s=%s,i=%d' % (
            self.nonce, base64.b64encode(self.salt).decode(), SCRAM_ITERATIONS)
        return self.server_first.encode()

    def finish(self, payload):
        """Client-final message in, server-final message out (or None)."""
        text = payload.decode()
        fields = self._fields(text)
        if fields.get('r') != self.nonce or 'p' not in fields:
            return None
        without_proof = text[:text.rindex(',p=')]
        auth_message = ','.join([self.first_bare, self.server_first, without_proof]).encode()
        client_key = hmac.new(self.salted, b'Client Key', self.hash).digest()
        stored_key = self.hash(client_key).digest()
        signature = hmac.new(stored_key, auth_message, self.hash).digest()
        proof = base64.b64decode(fields['p'])
        recovered = bytes(a ^ b for a, b in zip(proof, signature))
        if len(proof) != len(signature) or self.hash(recovered).digest() != stored_key:
            return None
        server_key = hmac.new(self.salted, b'Server Key', self.hash).digest()
        server_signature = hmac.new(server_key, auth_message, self.hash).digest()
        return ('v=' + base64.b64encode(server_signature).decode()).encode()


class Cursor:
    def __init__(self, ns, docs, limit, profile_ns=None, special=None):
        self.ns = ns
        self.docs = docs            # an iterator
        self.left = limit if limit and limit > 0 else None
        self.special = special
        self.profile_ns = profile_ns

    def batch(self, size):
        size = size if size and size > 0 else MAX_BATCH
        if self.left is not None:
            size = min(size, self.left)
        out = list(itertools.islice(self.docs, size))
        if self.left is not None:
            self.left -= len(out)
        return out

    def exhausted(self, batch, size):
        if self.left is not None and self.left <= 0:
            return True
        return len(batch) < (size if size and size > 0 else MAX_BATCH)


def project(doc, projection):
    """Apply an inclusion projection of dotted paths (as MongoDB would)."""
    if not projection:
        return doc
    out = OrderedDict()
    if projection.get('_id', 1) and '_id' in doc:
        out['_id'] = doc['_id']
    for path, include in projection.items():
        if path == '_id' or not include:
            continue
        src, dst = doc, out
        parts = path.split('.')
        for i, part in enumerate(parts):
            if not isinstance(src, dict) or part not in src:
                break
            if i == len(parts) - 1:
                dst[part] = src[part]
            else:
                src = src[part]
                dst = dst.setdefault(part, OrderedDict())
    return out


def generated_docs(n):
    """The synthetic interaction documents of a generated collection."""
    base = datetime.datetime(2024, 1, 1)
    for i in range(n):
        doc = OrderedDict([
            ('_id', i),
            ('user_id', Int64(i % 50021)),
            ('item_id', Int64((i * 7919) % 10007)),
            ('weight', 1.0 + (i % 5)),
            ('ts', base + datetime.timedelta(seconds=i)),
        ])
        yield doc


# A request MockupDB cannot decode (such as a date beyond Python's datetime
# range, which MongoDB itself accepts) would kill the connection's thread and
# leave the client waiting for a reply: close the connection instead, so the
# client sees an error at once.
_receive_request = mockupdb.mock_server_receive_request


def _receive_or_hang_up(client, server):
    try:
        return _receive_request(client, server)
    except (bson.errors.InvalidBSON, ValueError, NotImplementedError) as exc:
        sys.stderr.write('undecodable request, closing the connection: %s\n' % exc)
        raise socket.error(errno.ECONNRESET, 'undecodable request')


mockupdb.mock_server_receive_request = _receive_or_hang_up

# Keep binary values as they came (MockupDB's default decodes UUIDs of
# subtype 4 and re-encodes them with the legacy subtype 3).
mockupdb.CODEC_OPTIONS = CodecOptions(document_class=OrderedDict,
                                      uuid_representation=UuidRepresentation.UNSPECIFIED)


class TestServer:
    def __init__(self, args):
        self.args = args
        self.client = mongomock.MongoClient()
        self.cursors = {}
        self.scram = {}                 # client port -> Scram
        self.generated = {}             # (db, coll) -> number of documents
        self.profiles = {}              # db -> profiler entries, oldest first
        self.log_file = open(args.log, 'a') if args.log else None
        self.connection_ids = itertools.count(1)

    # ---- helpers ----------------------------------------------------------

    def profile(self, db, op, coll, command):
        if coll == 'system.profile':
            return
        entry = OrderedDict([
            ('op', op),
            ('ns', '%s.%s' % (db, coll)),
            ('command', OrderedDict((k, v) for k, v in command.items()
                                    if k not in ('$db', 'lsid', '$readPreference',
                                                 '$clusterTime', 'documents'))),
            ('ts', datetime.datetime.utcnow()),
        ])
        # Kept outside mongomock, which refuses keys starting with '$'.
        self.profiles.setdefault(db, []).append(entry)
        if self.log_file:
            self.log_file.write(json_util.dumps(entry) + '\n')
            self.log_file.flush()

    @staticmethod
    def error(code, name, message):
        return OrderedDict([('ok', 0), ('errmsg', message), ('code', code), ('codeName', name)])

    def new_cursor(self, db, coll, docs, limit, batch_size, command_batch_key, special=None):
        cursor = Cursor('%s.%s' % (db, coll), iter(docs), limit, special=special)
        batch = cursor.batch(batch_size)
        cursor_id = 0
        if not cursor.exhausted(batch, batch_size):
            cursor_id = random.randint(1, 2 ** 62)
            self.cursors[cursor_id] = cursor
        return OrderedDict([('cursor', OrderedDict([
            ('firstBatch', batch), ('id', Int64(cursor_id)), ('ns', cursor.ns)])), ('ok', 1)])

    def documents(self, db, coll, flt, projection, sort=None):
        """An iterator over a collection's matching documents."""
        if coll == 'system.profile':
            return (project(doc, projection) for doc in list(self.profiles.get(db, []))
                    if filtering.filter_applies(flt or {}, doc))
        gen = self.generated.get((db, coll))
        if gen is not None:
            if flt:
                raise NotImplementedError('generated collections take no filter')
            return (project(doc, projection) for doc in generated_docs(gen))
        collection = self.client[db][coll]
        # Cursor.__next__ of mongomock 4.1 slices its result list for every
        # document (quadratic): iterate over its generator instead.
        return collection._get_dataset(flt or {}, sort, projection or None, OrderedDict)

    # ---- commands ---------------------------------------------------------

    def cmd_hello(self, db, cmd, request):
        reply = OrderedDict([
            ('helloOk', True), ('ismaster', True), ('isWritablePrimary', True),
            ('maxBsonObjectSize', 16 * 1024 * 1024), ('maxMessageSizeBytes', 48000000),
            ('maxWriteBatchSize', 100000), ('localTime', utcnow()),
            ('connectionId', next(self.connection_ids)),
            ('minWireVersion', 0), ('maxWireVersion', MAX_WIRE_VERSION), ('readOnly', False),
            ('ok', 1)])
        mechs = cmd.get('saslSupportedMechs')
        if mechs and self.args.user and mechs.split('.', 1)[-1] == self.args.user:
            reply['saslSupportedMechs'] = ['SCRAM-SHA-1', 'SCRAM-SHA-256']
        return reply

    def cmd_ping(self, db, cmd, request):
        return {'ok': 1}

    def cmd_buildinfo(self, db, cmd, request):
        return OrderedDict([('version', '5.0.0'), ('versionArray', [5, 0, 0, 0]), ('ok', 1)])

    def cmd_endsessions(self, db, cmd, request):
        return {'ok': 1}

    def cmd_profile(self, db, cmd, request):
        return OrderedDict([('was', 2), ('slowms', 100), ('ok', 1)])

    def cmd_saslstart(self, db, cmd, request):
        mechanism = cmd.get('mechanism')
        if mechanism not in ('SCRAM-SHA-1', 'SCRAM-SHA-256') or not self.args.user:
            return self.error(18, 'AuthenticationFailed', 'Authentication failed.')
        scram = Scram(mechanism, self.args.user, self.args.password)
        out = scram.start(bytes(cmd.get('payload', b'')))
        if out is None:
            return self.error(18, 'AuthenticationFailed', 'Authentication failed.')
        self.scram[request.client_port] = scram
        return OrderedDict([('conversationId', 1), ('done', False),
                            ('payload', out), ('ok', 1)])

    def cmd_saslcontinue(self, db, cmd, request):
        scram = self.scram.pop(request.client_port, None)
        out = scram.finish(bytes(cmd.get('payload', b''))) if scram else None
        if out is None:
            return self.error(18, 'AuthenticationFailed', 'Authentication failed.')
        return OrderedDict([('conversationId', 1), ('done', True),
                            ('payload', out), ('ok', 1)])

    def cmd_find(self, db, cmd, request):
        coll = cmd['find']
        self.profile(db, 'query', coll, cmd)
        if coll.startswith('error'):
            return self.error(2, 'BadValue', 'injected failure for collection "%s"' % coll)
        docs = self.documents(db, coll, cmd.get('filter'), cmd.get('projection'), cmd.get('sort'))
        batch_size = cmd.get('batchSize', DEFAULT_BATCH)
        if cmd.get('singleBatch'):
            docs = itertools.islice(docs, batch_size)
        return self.new_cursor(db, coll, docs, cmd.get('limit'), batch_size, 'firstBatch')

    def cmd_getmore(self, db, cmd, request):
        cursor_id = int(cmd['getMore'])
        coll = cmd.get('collection')
        self.profile(db, 'getmore', coll, cmd)
        cursor = self.cursors.get(cursor_id)
        if cursor is None:
            return self.error(43, 'CursorNotFound', 'cursor id %d not found' % cursor_id)
        if coll.startswith('hangup'):
            self.cursors.pop(cursor_id, None)
            request.hangup()
            return None
        if coll.startswith('slow') or coll.startswith('stall'):
            delay = self.args.slow_ms / 1000.0 if coll.startswith('slow') else self.args.stall_s
            # Other connections are served meanwhile (MockupDB holds one
            # lock while a request is handled).
            with request.server._unlock():
                time.sleep(delay)
        size = cmd.get('batchSize')
        batch = cursor.batch(size)
        if cursor.exhausted(batch, size):
            self.cursors.pop(cursor_id, None)
            cursor_id = 0
        return OrderedDict([('cursor', OrderedDict([
            ('nextBatch', batch), ('id', Int64(cursor_id)), ('ns', cursor.ns)])), ('ok', 1)])

    def cmd_killcursors(self, db, cmd, request):
        self.profile(db, 'killcursors', cmd['killCursors'], cmd)
        killed, missing = [], []
        for cursor_id in cmd.get('cursors', []):
            if self.cursors.pop(int(cursor_id), None) is not None:
                killed.append(Int64(cursor_id))
            else:
                missing.append(Int64(cursor_id))
        return OrderedDict([('cursorsKilled', killed), ('cursorsNotFound', missing),
                            ('cursorsAlive', []), ('cursorsUnknown', []), ('ok', 1)])

    def cmd_count(self, db, cmd, request):
        coll = cmd['count']
        self.profile(db, 'command', coll, cmd)
        gen = self.generated.get((db, coll))
        if gen is not None:
            return OrderedDict([('n', gen), ('ok', 1)])
        n = sum(1 for _ in self.documents(db, coll, cmd.get('query'), None))
        return OrderedDict([('n', n), ('ok', 1)])

    def cmd_aggregate(self, db, cmd, request):
        coll = cmd['aggregate']
        self.profile(db, 'command', coll, cmd)
        pipeline = list(cmd.get('pipeline', []))
        gen = self.generated.get((db, coll))
        if gen is not None:
            docs = list(generated_docs(min(gen, 1000)))
            random.shuffle(docs)
        elif pipeline and '$collStats' in pipeline[0]:
            n = self.client[db][coll].count_documents({})
            docs = [OrderedDict([('n', n)])]
        else:
            docs = list(self.client[db][coll].aggregate(pipeline))
        batch_size = cmd.get('cursor', {}).get('batchSize', DEFAULT_BATCH)
        return self.new_cursor(db, coll, docs, None, batch_size, 'firstBatch')

    def cmd_insert(self, db, cmd, request):
        coll = cmd['insert']
        self.profile(db, 'insert', coll, cmd)
        collection = self.client[db][coll]
        n = 0
        errors = []
        for index, doc in enumerate(cmd.get('documents', [])):
            try:
                collection.insert_one(doc)
                n += 1
            except mongomock.DuplicateKeyError as exc:
                errors.append(OrderedDict([('index', index), ('code', 11000),
                                           ('errmsg', 'E11000 duplicate key error: %s' % exc)]))
                if cmd.get('ordered', True):
                    break
        reply = OrderedDict([('n', n), ('ok', 1)])
        if errors:
            reply['writeErrors'] = errors
        return reply

    def cmd_update(self, db, cmd, request):
        coll = cmd['update']
        self.profile(db, 'update', coll, cmd)
        collection = self.client[db][coll]
        matched = modified = 0
        for spec in cmd.get('updates', []):
            update = spec['u']
            if any(k.startswith('$') for k in update):
                fn = collection.update_many if spec.get('multi') else collection.update_one
                result = fn(spec['q'], update, upsert=spec.get('upsert', False))
            else:
                result = collection.replace_one(spec['q'], update, upsert=spec.get('upsert', False))
            matched += result.matched_count
            modified += result.modified_count
        return OrderedDict([('n', matched), ('nModified', modified), ('ok', 1)])

    def cmd_delete(self, db, cmd, request):
        coll = cmd['delete']
        self.profile(db, 'remove', coll, cmd)
        collection = self.client[db][coll]
        n = 0
        for spec in cmd.get('deletes', []):
            if spec.get('limit', 0) == 1:
                n += collection.delete_one(spec['q']).deleted_count
            else:
                n += collection.delete_many(spec['q']).deleted_count
        return OrderedDict([('n', n), ('ok', 1)])

    def cmd_listcollections(self, db, cmd, request):
        names = set(self.client[db].list_collection_names())
        names.update(c for (d, c) in self.generated if d == db)
        if self.profiles.get(db):
            names.add('system.profile')
        docs = []
        for name in sorted(names):
            doc = OrderedDict([('name', name), ('type', 'collection'), ('options', {}),
                               ('info', {'readOnly': False})])
            if filtering.filter_applies(cmd.get('filter') or {}, doc):
                docs.append(doc)
        batch_size = cmd.get('cursor', {}).get('batchSize', DEFAULT_BATCH)
        return self.new_cursor(db, '$cmd.listCollections', docs, None, batch_size, 'firstBatch')

    def cmd_listdatabases(self, db, cmd, request):
        names = set(self.client.list_database_names()) | {d for (d, _) in self.generated}
        docs = [OrderedDict([('name', n), ('sizeOnDisk', 1), ('empty', False)])
                for n in sorted(names)]
        return OrderedDict([('databases', docs), ('totalSize', len(docs)), ('ok', 1)])

    def cmd_create(self, db, cmd, request):
        self.client[db].create_collection(cmd['create'])
        return {'ok': 1}

    def cmd_drop(self, db, cmd, request):
        coll = cmd['drop']
        if self.generated.pop((db, coll), None) is not None:
            return {'ok': 1}
        if coll not in self.client[db].list_collection_names():
            return self.error(26, 'NamespaceNotFound', 'ns not found')
        self.client[db].drop_collection(coll)
        return {'ok': 1}

    def cmd_dropdatabase(self, db, cmd, request):
        self.client.drop_database(db)
        for key in [k for k in self.generated if k[0] == db]:
            del self.generated[key]
        return {'ok': 1}

    def cmd_recstestgenerate(self, db, cmd, request):
        self.generated[(db, cmd['recsTestGenerate'])] = int(cmd.get('n', 0))
        return {'ok': 1}

    # ---- dispatch ---------------------------------------------------------

    COMMANDS = {
        'hello': cmd_hello, 'ismaster': cmd_hello, 'ping': cmd_ping,
        'buildinfo': cmd_buildinfo, 'endsessions': cmd_endsessions, 'profile': cmd_profile,
        'saslstart': cmd_saslstart, 'saslcontinue': cmd_saslcontinue,
        'find': cmd_find, 'getmore': cmd_getmore, 'killcursors': cmd_killcursors,
        'count': cmd_count, 'aggregate': cmd_aggregate,
        'insert': cmd_insert, 'update': cmd_update, 'delete': cmd_delete,
        'listcollections': cmd_listcollections, 'listdatabases': cmd_listdatabases,
        'create': cmd_create, 'drop': cmd_drop, 'dropdatabase': cmd_dropdatabase,
        'recstestgenerate': cmd_recstestgenerate,
    }

    def handle(self, request):
        if not request.is_command or not request.docs:
            request.replies(self.error(59, 'CommandNotFound', 'legacy opcodes are not supported'))
            return True
        cmd = request.doc
        name = next(iter(cmd))
        db = request.namespace or 'admin'
        handler = self.COMMANDS.get(name.lower())
        if handler is None:
            reply = self.error(59, 'CommandNotFound', "no such command: '%s'" % name)
        else:
            try:
                reply = handler(self, db, cmd, request)
            except Exception as exc:        # report, do not die
                reply = self.error(1, 'InternalError', '%s: %s' % (type(exc).__name__, exc))
        if reply is not None:
            try:
                request.replies(reply)
            except OSError:
                pass                        # the client went away meanwhile
        return True


def main():
    parser = argparse.ArgumentParser(description='MongoDB wire-protocol test server')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--ready-file')
    parser.add_argument('--log')
    parser.add_argument('--user', default='recs_test')
    parser.add_argument('--password', default='recs_secret')
    parser.add_argument('--slow-ms', type=int, default=200)
    parser.add_argument('--stall-s', type=float, default=30)
    args = parser.parse_args()

    state = TestServer(args)
    server = mockupdb.MockupDB(port=args.port, request_timeout=int(1e6))
    server.autoresponds(state.handle)
    server.run()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.ready_file:
        with open(args.ready_file + '.tmp', 'w') as f:
            f.write('%d\n' % os.getpid())
        os.rename(args.ready_file + '.tmp', args.ready_file)
    while not stop.wait(1):
        pass
    server.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
