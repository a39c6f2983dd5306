/*
 * jjsql's tables and functions on an SQLite connection: the extension entry
 * points, the sqlite3_module callbacks and the scalar-function trampoline.
 * Every call into SQLite goes through the host's sqlite3_api routines
 * (sqlite3ext.h): in the loadable extension they are the loading SQLite's,
 * in jjsql mattn/go-sqlite3's (jj_set_api). The tables and functions
 * themselves are Go (sqlitec.go); C holds only cgo handles (integers) to Go
 * objects, never Go pointers, and the row batches Go fills in C memory.
 */
#include <sqlite3ext.h>
/* static: the host loads extensions with RTLD_GLOBAL, and every extension
 * defines this symbol. */
static SQLITE_EXTENSION_INIT1

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "_cgo_export.h"

/* One registered table: its Go handle, its CREATE TABLE statement and, per
 * column, the argument index of a HIDDEN argument column (-1 otherwise). */
typedef struct jj_module {
  uintptr_t table;
  int refine; /* ask Go which of the columns from 63 on are read */
  char *schema;
  int ncol;
  int nargs;
  int *arg_of;
} jj_module;

typedef struct jj_vtab {
  sqlite3_vtab base;
  jj_module *mod;
} jj_vtab;

typedef struct jj_cursor {
  sqlite3_vtab_cursor base;
  uintptr_t cur; /* Go cursor handle; 0 before xFilter or after an error */
  jj_batch *b;   /* the rows Go read ahead (owned by the Go cursor) */
  int eof;
} jj_cursor;

/* set_error moves a malloc'ed Go error string into pVtab->zErrMsg. */
static int set_error(sqlite3_vtab *vt, char *err) {
  sqlite3_free(vt->zErrMsg);
  vt->zErrMsg = sqlite3_mprintf("%s", err);
  free(err);
  return SQLITE_ERROR;
}

static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                     sqlite3_vtab **pp, char **pzErr) {
  jj_module *m = (jj_module *)aux;
  jj_vtab *v;
  int rc = sqlite3_declare_vtab(db, m->schema);
  (void)argc;
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("jjsql: declare %s: %s", argv[0], sqlite3_errmsg(db));
    return rc;
  }
  v = (jj_vtab *)sqlite3_malloc(sizeof(*v));
  if (v == 0) return SQLITE_NOMEM;
  memset(v, 0, sizeof(*v));
  v->mod = m;
  *pp = &v->base;
  return SQLITE_OK;
}

static int x_disconnect(sqlite3_vtab *vt) {
  sqlite3_free(vt->zErrMsg);
  sqlite3_free(vt);
  return SQLITE_OK;
}

/*
 * x_best_index consumes the usable equality constraints on argument columns
 * (one per argument, in constraint order) and hands xFilter, through idxStr,
 * which argument each value is and which columns the statement reads:
 * "<arg>,<arg>,...|<hex bitmap of columns, column i at bit i%8 of byte i/8>".
 * The columns read are colUsed (bit 63 stands for column 63 and every later
 * one) plus the columns of every constraint and ORDER BY term. Indices are
 * in declared order (main.go declares the argument columns first). A plan
 * without the path argument gets a prohibitive cost, as in jjsql.
 */
static int x_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
  jj_module *m = ((jj_vtab *)vt)->mod;
  int nbytes = (m->ncol + 7) / 8;
  unsigned char *mask;
  unsigned char *seen;
  char *s;
  int i, n = 0, len = 0, has_path = 0;
  static const char hex[] = "0123456789abcdef";

  mask = (unsigned char *)sqlite3_malloc(nbytes + m->nargs + 1);
  s = (char *)sqlite3_malloc(12 * m->nargs + 2 * nbytes + 2);
  if (mask == 0 || s == 0) {
    sqlite3_free(mask);
    sqlite3_free(s);
    return SQLITE_NOMEM;
  }
  memset(mask, 0, nbytes + m->nargs + 1);
  seen = mask + nbytes;

  for (i = 0; i < m->ncol; i++) {
    int bit = i < 63 ? i : 63;
    if (info->colUsed & ((sqlite3_uint64)1 << bit)) mask[i / 8] |= 1 << (i % 8);
  }
  /* colUsed has one bit for column 63 and every later one: a host that
   * knows better (jjsql's authorizer) narrows those columns down. */
  if (m->refine && m->ncol > 63 && (info->colUsed & ((sqlite3_uint64)1 << 63))) {
    goRefine(m->table, mask, nbytes);
  }
  for (i = 0; i < info->nConstraint; i++) {
    int c = info->aConstraint[i].iColumn;
    if (c >= 0 && c < m->ncol) mask[c / 8] |= 1 << (c % 8);
  }
  for (i = 0; i < info->nOrderBy; i++) {
    int c = info->aOrderBy[i].iColumn;
    if (c >= 0 && c < m->ncol) mask[c / 8] |= 1 << (c % 8);
  }

  for (i = 0; i < info->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    int a;
    if (!c->usable || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (c->iColumn < 0 || c->iColumn >= m->ncol) continue;
    a = m->arg_of[c->iColumn];
    if (a < 0 || a >= m->nargs || seen[a]) continue;
    seen[a] = 1;
    info->aConstraintUsage[i].argvIndex = ++n;
    info->aConstraintUsage[i].omit = 1;
    if (a == 0) has_path = 1;
    len += sprintf(s + len, n > 1 ? ",%d" : "%d", a);
  }
  s[len++] = '|';
  for (i = 0; i < nbytes; i++) {
    s[len++] = hex[mask[i] >> 4];
    s[len++] = hex[mask[i] & 15];
  }
  s[len] = 0;
  sqlite3_free(mask);

  info->idxNum = 1;
  info->idxStr = s;
  info->needToFreeIdxStr = 1;
  info->estimatedCost = m->nargs == 0 ? 1 : has_path ? 1e6 : 1e30;
  info->estimatedRows = 100000;
  return SQLITE_OK;
}

static int x_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **pp) {
  jj_cursor *c = (jj_cursor *)sqlite3_malloc(sizeof(*c));
  (void)vt;
  if (c == 0) return SQLITE_NOMEM;
  memset(c, 0, sizeof(*c));
  *pp = &c->base;
  return SQLITE_OK;
}

static int x_close(sqlite3_vtab_cursor *cur) {
  jj_cursor *c = (jj_cursor *)cur;
  if (c->cur) goClose(c->cur);
  sqlite3_free(c);
  return SQLITE_OK;
}

static int x_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                    int argc, sqlite3_value **argv) {
  jj_cursor *c = (jj_cursor *)cur;
  jj_module *m = ((jj_vtab *)cur->pVtab)->mod;
  char *err = 0;
  int eof = 1;
  (void)idxNum;
  c->b = 0;
  c->cur = goFilter(m->table, c->cur, (char *)(idxStr ? idxStr : ""), argc, argv, &c->b, &eof, &err);
  c->eof = eof;
  if (err) return set_error(cur->pVtab, err);
  return SQLITE_OK;
}

/* x_next moves to the next row of the batch, and asks Go for the next batch
 * once this one is read (unless Go said it was the last). */
static int x_next(sqlite3_vtab_cursor *cur) {
  jj_cursor *c = (jj_cursor *)cur;
  jj_batch *b = c->b;
  char *err;
  if (c->cur == 0 || b == 0) {
    c->eof = 1;
    return SQLITE_OK;
  }
  if (++b->row < b->nrows) return SQLITE_OK;
  if (b->last) {
    c->eof = 1;
    return SQLITE_OK;
  }
  err = goFill(c->cur, &c->eof);
  if (err) return set_error(cur->pVtab, err);
  return SQLITE_OK;
}

static int x_eof(sqlite3_vtab_cursor *cur) {
  jj_cursor *c = (jj_cursor *)cur;
  return c->cur == 0 || c->eof;
}

/* x_column reads the current row's cell of column i from the batch: no call
 * into Go. A column the statement did not declare it reads (colUsed) has no
 * cell: an error rather than a wrong value. */
static int x_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  jj_cursor *c = (jj_cursor *)cur;
  jj_batch *b = c->b;
  const jj_cell *x;
  double d;
  int s;
  if (c->cur == 0 || b == 0 || c->eof || b->row >= b->nrows) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  s = i >= 0 && i < b->ncol ? b->slot[i] : -1;
  if (s < 0) {
    sqlite3_result_error(ctx, "jjsql: internal: a column the statement was not planned to read", -1);
    return SQLITE_ERROR;
  }
  x = &b->cells[(size_t)b->row * (size_t)b->ncell + (size_t)s];
  switch (x->type) {
    case JJ_INT:
      sqlite3_result_int64(ctx, x->v);
      break;
    case JJ_REAL:
      memcpy(&d, &x->v, sizeof d);
      sqlite3_result_double(ctx, d);
      break;
    case JJ_TEXT:
      /* Copied (SQLITE_TRANSIENT): the arena is reused by the next batch. */
      sqlite3_result_text(ctx, x->n > 0 ? b->arena + x->v : "", x->n, SQLITE_TRANSIENT);
      break;
    case JJ_BLOB:
      /* A NULL pointer would make SQLite return NULL: an empty blob is
       * passed explicitly. */
      if (x->n > 0) {
        sqlite3_result_blob(ctx, b->arena + x->v, x->n, SQLITE_TRANSIENT);
      } else {
        sqlite3_result_zeroblob(ctx, 0);
      }
      break;
    default:
      sqlite3_result_null(ctx);
  }
  return SQLITE_OK;
}

static int x_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
  jj_cursor *c = (jj_cursor *)cur;
  jj_batch *b = c->b;
  *rowid = c->cur && b && b->row < b->nrows ? b->rowids[b->row] : 0;
  return SQLITE_OK;
}

/* Eponymous-only, as in jjsql: no xCreate, so CREATE VIRTUAL TABLE ... USING
 * flows is refused and flows(...) is always the table-valued function. */
static sqlite3_module jj_module_def = {
    0,            /* iVersion */
    0,            /* xCreate */
    x_connect,    /* xConnect */
    x_best_index, /* xBestIndex */
    x_disconnect, /* xDisconnect */
    x_disconnect, /* xDestroy */
    x_open,       /* xOpen */
    x_close,      /* xClose */
    x_filter,     /* xFilter */
    x_next,       /* xNext */
    x_eof,        /* xEof */
    x_column,     /* xColumn */
    x_rowid,      /* xRowid */
    0,            /* xUpdate */
    0,            /* xBegin */
    0,            /* xSync */
    0,            /* xCommit */
    0,            /* xRollback */
    0,            /* xFindFunction */
    0,            /* xRename */
    0,            /* xSavepoint */
    0,            /* xRelease */
    0,            /* xRollbackTo */
};

static void module_free(void *p) {
  jj_module *m = (jj_module *)p;
  if (m == 0) return;
  goRelease(m->table);
  sqlite3_free(m->schema);
  sqlite3_free(m->arg_of);
  sqlite3_free(m);
}

int jj_create_module(sqlite3 *db, const char *name, uintptr_t table,
                     const char *schema, int ncol, const int *arg_of, int refine) {
  int i;
  jj_module *m = (jj_module *)sqlite3_malloc(sizeof(*m));
  if (m == 0) {
    goRelease(table);
    return SQLITE_NOMEM;
  }
  memset(m, 0, sizeof(*m));
  m->table = table;
  m->refine = refine;
  m->ncol = ncol;
  m->schema = sqlite3_mprintf("%s", schema);
  m->arg_of = (int *)sqlite3_malloc(ncol * (int)sizeof(int) + 1);
  if (m->schema == 0 || m->arg_of == 0) {
    module_free(m);
    return SQLITE_NOMEM;
  }
  for (i = 0; i < ncol; i++) {
    m->arg_of[i] = arg_of[i];
    if (arg_of[i] >= m->nargs) m->nargs = arg_of[i] + 1;
  }
  /* SQLite calls module_free when the connection closes, when the module is
   * replaced (a second .load) and when this call fails. */
  return sqlite3_create_module_v2(db, name, &jj_module_def, m, module_free);
}

static void x_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  goCall((uintptr_t)sqlite3_user_data(ctx), ctx, argv[0]);
}

int jj_create_function(sqlite3 *db, const char *name, uintptr_t fn) {
  return sqlite3_create_function_v2(db, name, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                    (void *)fn, x_func, 0, 0, 0);
}

const char *jj_errmsg(sqlite3 *db) { return sqlite3_errmsg(db); }

int jj_value_type(sqlite3_value *v) { return sqlite3_value_type(v); }
sqlite3_int64 jj_value_int64(sqlite3_value *v) { return sqlite3_value_int64(v); }
double jj_value_double(sqlite3_value *v) { return sqlite3_value_double(v); }
const void *jj_value_blob(sqlite3_value *v) { return sqlite3_value_blob(v); }
const unsigned char *jj_value_text(sqlite3_value *v) { return sqlite3_value_text(v); }
int jj_value_bytes(sqlite3_value *v) { return sqlite3_value_bytes(v); }

void jj_result_null(sqlite3_context *ctx) { sqlite3_result_null(ctx); }
void jj_result_int64(sqlite3_context *ctx, sqlite3_int64 v) { sqlite3_result_int64(ctx, v); }
void jj_result_double(sqlite3_context *ctx, double v) { sqlite3_result_double(ctx, v); }

/* Text and blobs are copied by SQLite (SQLITE_TRANSIENT): the bytes are Go
 * memory, valid only during this call. A NULL pointer would make SQLite
 * return NULL, so empty values are passed explicitly. */
void jj_result_text(sqlite3_context *ctx, const char *p, int n) {
  sqlite3_result_text(ctx, n > 0 ? p : "", n, SQLITE_TRANSIENT);
}

void jj_result_blob(sqlite3_context *ctx, const void *p, int n) {
  if (n > 0) {
    sqlite3_result_blob(ctx, p, n, SQLITE_TRANSIENT);
  } else {
    sqlite3_result_zeroblob(ctx, 0);
  }
}

void jj_result_error(sqlite3_context *ctx, const char *msg) { sqlite3_result_error(ctx, msg, -1); }

/* jj_set_api makes this file call SQLite through api: in jjsql, the routines
 * of the SQLite it links (mattn/go-sqlite3's), captured by the caller. */
void jj_set_api(const void *api) { sqlite3_api = (const sqlite3_api_routines *)api; }

int jj_version(void) { return sqlite3_libversion_number(); }

static int jj_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  char *err;
  SQLITE_EXTENSION_INIT2(pApi);
  err = goInit(db, sqlite3_libversion_number(), (char *)sqlite3_libversion());
  if (err) {
    *pzErrMsg = sqlite3_mprintf("%s", err);
    free(err);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* The sqlite3 shell looks for sqlite3_<file name>_init first (".load
 * ./bin/jjsql" finds sqlite3_jjsql_init), then sqlite3_extension_init (a
 * renamed file). */
int sqlite3_jjsql_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  return jj_init(db, pzErrMsg, pApi);
}

int sqlite3_extension_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  return jj_init(db, pzErrMsg, pApi);
}
