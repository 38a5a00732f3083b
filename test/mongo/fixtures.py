#!/usr/bin/python3
"""Load the documents recs_mongo_fdw's regression tests read, with pymongo.

Usage: fixtures.py MONGODB_URI

Drops and fills the databases recs_fdw_test and recs_fdw_import on the server
the URI names: the project's test server (test/mongo/server.py) or a real
mongod (scripts/test with MONGO_URI).  Every value is fixed, so the tests'
expected output does not depend on the run.  On a real mongod it also turns
the profiler on for recs_fdw_test, so that the tests can read the filters
that were pushed down from system.profile, as they do on the test server.
"""

import datetime
import sys

import pymongo
from bson import ObjectId
from bson.binary import Binary
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.regex import Regex

DB = 'recs_fdw_test'
IMPORT_DB = 'recs_fdw_import'


def oid(n):
    return ObjectId('65a0000000000000000000%02x' % n)


def dt(*args):
    return datetime.datetime(*args)


def types_docs():
    """One document per BSON type and edge case, for the conversion tests."""
    return [
        {'_id': 1, 'kind': 'int32', 'v': 42},
        {'_id': 2, 'kind': 'int64', 'v': Int64(9000000000)},
        {'_id': 3, 'kind': 'double', 'v': 2.5},
        {'_id': 4, 'kind': 'double integral', 'v': 7.0},
        {'_id': 5, 'kind': 'decimal', 'v': Decimal128('12345.678901234567890123456789')},
        {'_id': 6, 'kind': 'decimal integral', 'v': Decimal128('4.20E+1')},
        {'_id': 7, 'kind': 'string', 'v': 'héllo wörld'},
        {'_id': 8, 'kind': 'bool', 'v': True},
        {'_id': 9, 'kind': 'date', 'v': dt(2024, 3, 1, 12, 30, 15, 250000)},
        {'_id': 10, 'kind': 'objectId', 'v': oid(10)},
        {'_id': 11, 'kind': 'array', 'v': [1, 2, 3]},
        {'_id': 12, 'kind': 'document', 'v': {'a': 1, 'b': [True, None], 'c': {'d': 'e'}}},
        {'_id': 13, 'kind': 'null', 'v': None},
        {'_id': 14, 'kind': 'missing'},
        {'_id': 15, 'kind': 'binary', 'v': Binary(b'\x00\x01\xfe\xff', 0)},
        {'_id': 16, 'kind': 'uuid', 'v': Binary(bytes(range(16)), 4)},
        {'_id': 17, 'kind': 'regex', 'v': Regex('^ab+c', 'i')},
        {'_id': 18, 'kind': 'double 0.1', 'v': 0.1},
        {'_id': 19, 'kind': 'negative date', 'v': dt(1969, 12, 31, 23, 59, 59)},
        {'_id': 20, 'kind': 'string array', 'v': ['a', 'b', None]},
        {'_id': 21, 'kind': 'nested array', 'v': [[1, 2], [3]]},
        {'_id': 22, 'kind': 'big int64', 'v': Int64(2 ** 62)},
        {'_id': 23, 'kind': 'double big', 'v': 1e300},
    ]


def people_docs():
    names = ['ada', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jo']
    docs = []
    for i, name in enumerate(names):
        doc = {
            '_id': i + 1,
            'name': name,
            'age': 20 + 3 * i,
            'score': round(0.5 + i * 1.25, 2),
            'active': i % 3 != 0,
            'joined': dt(2023, 1 + i, 15, 8, 0, 0),
            'tags': ['t%d' % (i % 3), 'all'],
            'address': {'city': ['paris', 'lyon', 'nice'][i % 3], 'zip': '%05d' % (75000 + i)},
        }
        if i == 4:
            del doc['age']              # missing field
        if i == 7:
            doc['score'] = None         # explicit null
        docs.append(doc)
    docs.append({'_id': 11, 'name': oid(11), 'age': 99, 'score': 1.0, 'active': True,
                 'joined': dt(2024, 6, 1), 'tags': [], 'address': {'city': 'paris'}})
    return docs


def events_docs():
    """Interactions for the training test: nested ids, a weight, a time."""
    docs = []
    n = 0
    for user in range(1, 31):
        for k in range(1 + user % 7):
            item = (user * 7 + k * 13) % 23 + 1
            n += 1
            docs.append({
                '_id': n,
                'user': {'id': Int64(user)},
                'event': {'item_id': item, 'kind': ['view', 'click', 'buy'][k % 3]},
                'weight': 1.0 + (k % 3),
                'at': dt(2024, 1, 1) + datetime.timedelta(hours=n),
            })
    return docs


def mismatch_docs():
    return [
        {'_id': 1, 'n': 5, 'ts': dt(2024, 1, 1), 'flag': True},
        {'_id': 2, 'n': 'five', 'ts': 'yesterday', 'flag': 1},
        {'_id': oid(3), 'n': 2.5, 'ts': dt(2024, 1, 2), 'flag': False},
        {'_id': 'four', 'n': Int64(2 ** 40), 'ts': None, 'flag': None},
    ]


def load(uri):
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    for name in (DB, IMPORT_DB):
        client.drop_database(name)
    db = client[DB]

    db.types.insert_many(types_docs())
    db.people.insert_many(people_docs())
    db.events.insert_many(events_docs())
    db.mismatch.insert_many(mismatch_docs())
    db.big.insert_many([{'_id': i, 'n': i, 'g': i % 10} for i in range(1, 2501)])
    db.hangup.insert_many([{'_id': i, 'n': i} for i in range(1, 501)])
    db.slow.insert_many([{'_id': i, 'n': i} for i in range(1, 5001)])
    db.stall.insert_many([{'_id': i, 'n': i} for i in range(1, 501)])
    db.create_collection('empty')
    db.create_collection('writes')

    imp = client[IMPORT_DB]
    imp.clicks.insert_many([
        {'_id': oid(i), 'user_id': i % 4, 'item_id': Int64(100 + i), 'score': 0.5 * i,
         'at': dt(2024, 2, 1 + i), 'tags': ['x', 'y'], 'meta': {'src': 'web'},
         'mixed': i if i % 2 else 'text', 'ok': i % 2 == 0}
        for i in range(1, 9)])
    imp.users.insert_many([{'_id': i, 'name': 'u%d' % i, 'since': dt(2020, 1, i)}
                           for i in range(1, 4)])
    imp['Odd Name'].insert_one({'_id': 1, 'Value': 1})

    # A real mongod records commands in system.profile only when asked to
    # (the test server always does, and accepts the command).
    db.command('profile', 2)
    client.close()


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: fixtures.py MONGODB_URI')
    load(sys.argv[1])
