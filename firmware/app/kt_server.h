#ifndef KT_SERVER_H
#define KT_SERVER_H

/* Serve host requests forever (PING, DATA, PROCESS, OUTPUT, STATS, OPS). */
void kt_server_run(void) __attribute__((noreturn));

#endif
