#ifndef C2D_TEST_LOG_STDERR_H
#define C2D_TEST_LOG_STDERR_H
extern char c2d_test_last_log[1024];
extern int c2d_test_log_count;
#endif
