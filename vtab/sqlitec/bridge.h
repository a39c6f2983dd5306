/*
 * The C half of jjsql's SQLite tables and functions: the extension entry
 * points and the sqlite3_module callbacks live in bridge.c; these helpers let
 * the Go half call SQLite, always through the host's sqlite3_api routines.
 */
#ifndef JJSQL_BRIDGE_H
#define JJSQL_BRIDGE_H

#include <stdint.h>
#include <sqlite3.h>

/* Oldest SQLite the extension accepts: 3.10.0 added sqlite3_index_info.colUsed
 * (eponymous table-valued functions with HIDDEN arguments came in 3.9.0). */
#define JJ_MIN_SQLITE 3010000

/* A row batch: the rows the Go cursor read ahead, their cells (one per
 * column the statement reads, in slot order) and the bytes of their text and
 * blob cells. Go allocates and fills it in C memory; xNext, xColumn and xRowid
 * read it without calling into Go until the batch is used up. */
enum { JJ_NULL = 0, JJ_INT = 1, JJ_REAL = 2, JJ_TEXT = 3, JJ_BLOB = 4 };

typedef struct jj_cell {
  sqlite3_int64 v; /* the integer, the double's bits, or the offset in arena */
  int n;           /* text or blob length */
  int type;        /* JJ_NULL ... JJ_BLOB */
} jj_cell;

typedef struct jj_batch {
  int nrows;  /* rows in the batch */
  int row;    /* the current row */
  int last;   /* no row after this batch */
  int ncell;  /* cells per row */
  int ncol;   /* declared columns: the length of slot */
  int *slot;  /* declared column -> its cell in a row, or -1 */
  jj_cell *cells;
  sqlite3_int64 *rowids;
  char *arena;
} jj_batch;

void jj_set_api(const void *api);
int jj_version(void);

int jj_value_type(sqlite3_value *v);
sqlite3_int64 jj_value_int64(sqlite3_value *v);
double jj_value_double(sqlite3_value *v);
const void *jj_value_blob(sqlite3_value *v);
const unsigned char *jj_value_text(sqlite3_value *v);
int jj_value_bytes(sqlite3_value *v);

void jj_result_null(sqlite3_context *ctx);
void jj_result_int64(sqlite3_context *ctx, sqlite3_int64 v);
void jj_result_double(sqlite3_context *ctx, double v);
void jj_result_text(sqlite3_context *ctx, const char *p, int n);
void jj_result_blob(sqlite3_context *ctx, const void *p, int n);
void jj_result_error(sqlite3_context *ctx, const char *msg);

int jj_create_module(sqlite3 *db, const char *name, uintptr_t table,
                     const char *schema, int ncol, const int *arg_of, int refine);
int jj_create_function(sqlite3 *db, const char *name, uintptr_t fn);
const char *jj_errmsg(sqlite3 *db);

#endif
