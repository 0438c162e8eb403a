#ifndef KB_SQLITE_H
#define KB_SQLITE_H

// sqlite3_db_config is variadic, which Swift cannot call: one helper per option used.
// `db` is a `sqlite3 *` (GRDB's `Database.sqliteConnection`).

/// Closing the last connection no longer checkpoints the WAL (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE):
/// a short command that wrote would otherwise pay four fdatasyncs on exit. The WAL is
/// checkpointed by SQLite's automatic checkpoints instead. Returns SQLite's result code.
int kb_sqlite_no_checkpoint_on_close(void *db);

/// Pages of the database this connection has looked up since it opened (page cache hits and
/// misses, SQLITE_DBSTATUS_CACHE_HIT + SQLITE_DBSTATUS_CACHE_MISS): a count of the work its
/// statements did, unlike a time, the same on a busy machine as on a quiet one.
long long kb_sqlite_pages_touched(void *db);

#endif
