#include <sqlite3.h>
#include "kb_sqlite.h"

int kb_sqlite_no_checkpoint_on_close(void *db) {
  return sqlite3_db_config((sqlite3 *)db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}

long long kb_sqlite_pages_touched(void *db) {
  int hit = 0, miss = 0, high = 0;
  sqlite3_db_status((sqlite3 *)db, SQLITE_DBSTATUS_CACHE_HIT, &hit, &high, 0);
  sqlite3_db_status((sqlite3 *)db, SQLITE_DBSTATUS_CACHE_MISS, &miss, &high, 0);
  return (long long)hit + (long long)miss;
}
