/*
 * shippable.c
 *		The allow-list of operators recs_mongo_fdw sends to MongoDB, decided
 *		by operator OID.
 *
 * An operator is pushed down only if its OID is one of the built-in
 * comparison operators listed here, whose meaning on the mapped values is
 * exactly MongoDB's: integers compared with integers, double precision with
 * double precision, timestamps with timestamps, booleans, and text equality
 * (MongoDB orders strings by bytes, PostgreSQL by collation, so only = and
 * <> are safe for text).  A user-defined operator that happens to be called
 * "=" has another OID and stays local, whatever its name.  Everything not
 * listed is "not shippable" by default.
 *
 * The OIDs are looked up once per backend in pg_catalog, by name and
 * argument types, and kept in a hash table keyed by OID.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/value.h"
#include "utils/hsearch.h"

#include "recs_mongo_fdw.h"

typedef struct ShippableOperator
{
	Oid			opno;			/* hash key */
	MongoOpKind kind;
	MongoTypeClass cls;
} ShippableOperator;

static HTAB *ShippableOperators = NULL;

static const struct
{
	const char *name;
	MongoOpKind kind;
}			Comparisons[] = {
	{"=", MONGO_OP_EQ},
	{"<>", MONGO_OP_NE},
	{"<", MONGO_OP_LT},
	{"<=", MONGO_OP_LE},
	{">", MONGO_OP_GT},
	{">=", MONGO_OP_GE},
};

static void
AddOperator(const char *name, MongoOpKind kind, MongoTypeClass cls, Oid left, Oid right)
{
	Oid			opno;
	ShippableOperator *entry;
	bool		found;

	opno = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString(pstrdup(name))),
							left, right);
	if (!OidIsValid(opno))
		return;
	entry = hash_search(ShippableOperators, &opno, HASH_ENTER, &found);
	entry->kind = kind;
	entry->cls = cls;
}

static void
BuildShippableOperators(void)
{
	static const Oid ints[] = {INT2OID, INT4OID, INT8OID};
	HASHCTL		ctl;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(ShippableOperator);
	ShippableOperators = hash_create("recs_mongo_fdw shippable operators", 128, &ctl,
									 HASH_ELEM | HASH_BLOBS);

	for (size_t c = 0; c < lengthof(Comparisons); c++)
	{
		const char *name = Comparisons[c].name;
		MongoOpKind kind = Comparisons[c].kind;

		for (size_t l = 0; l < lengthof(ints); l++)
			for (size_t r = 0; r < lengthof(ints); r++)
				AddOperator(name, kind, MONGO_CLASS_INT, ints[l], ints[r]);
		AddOperator(name, kind, MONGO_CLASS_FLOAT8, FLOAT8OID, FLOAT8OID);
		AddOperator(name, kind, MONGO_CLASS_TIMESTAMPTZ, TIMESTAMPTZOID, TIMESTAMPTZOID);
		AddOperator(name, kind, MONGO_CLASS_TIMESTAMP, TIMESTAMPOID, TIMESTAMPOID);
		if (kind == MONGO_OP_EQ || kind == MONGO_OP_NE)
		{
			AddOperator(name, kind, MONGO_CLASS_TEXT, TEXTOID, TEXTOID);
			AddOperator(name, kind, MONGO_CLASS_BOOL, BOOLOID, BOOLOID);
		}
	}
}

/*
 * The kind of comparison operator opno is, and in *cls the type family it
 * compares; MONGO_OP_NONE if it is not on the allow-list.
 */
MongoOpKind
MongoShippableOperator(Oid opno, MongoTypeClass *cls)
{
	ShippableOperator *entry;

	if (ShippableOperators == NULL)
		BuildShippableOperators();
	entry = hash_search(ShippableOperators, &opno, HASH_FIND, NULL);
	if (entry == NULL)
		return MONGO_OP_NONE;
	*cls = entry->cls;
	return entry->kind;
}

/* The family of a column's type, for matching it with an operator. */
MongoTypeClass
MongoColumnClass(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return MONGO_CLASS_INT;
		case FLOAT8OID:
			return MONGO_CLASS_FLOAT8;
		case TEXTOID:
		case VARCHAROID:
			return MONGO_CLASS_TEXT;
		case BOOLOID:
			return MONGO_CLASS_BOOL;
		case TIMESTAMPTZOID:
			return MONGO_CLASS_TIMESTAMPTZ;
		case TIMESTAMPOID:
			return MONGO_CLASS_TIMESTAMP;
	}
	return MONGO_CLASS_NONE;
}

/* The operator with its operands swapped: c < x is x > c. */
MongoOpKind
MongoCommuteOpKind(MongoOpKind kind)
{
	switch (kind)
	{
		case MONGO_OP_LT:
			return MONGO_OP_GT;
		case MONGO_OP_LE:
			return MONGO_OP_GE;
		case MONGO_OP_GT:
			return MONGO_OP_LT;
		case MONGO_OP_GE:
			return MONGO_OP_LE;
		default:
			return kind;
	}
}
