/*
 * Scratch directories for unit tests: each test that touches files gets a fresh one
 * under /tmp and removes it whole afterwards, so tests never see each other's files.
 */
#ifndef AW_TEST_TMPDIR_H
#define AW_TEST_TMPDIR_H

/* A new empty directory /tmp/awnode-test-XXXXXX; caller removes it with
 * test_tmpdir_remove (which frees the string). Aborts the test run if none can be made. */
char *test_tmpdir(void);

/* Remove dir and everything below it, then free(dir). Returns 0, or -1 if something
 * could not be removed. NULL is fine. */
int test_tmpdir_remove(char *dir);

/* test_tmpdir() set as $XDG_CONFIG_HOME, $XDG_DATA_HOME, $XDG_STATE_HOME and
 * $XDG_CACHE_HOME (as <dir>/config, <dir>/data, ...), for code that finds its files
 * through them. Remove with test_tmpdir_remove. */
char *test_tmpdir_xdg(void);

/* Remove dir and everything below it (links are removed, never followed), for a
 * directory the test made itself. 0, or -1 if something could not be removed. */
int test_rmtree(const char *dir);

#endif
