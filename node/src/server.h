/* Entry point of the HTTP loop (server.c): runs until SIGINT/SIGTERM. */
#ifndef AW_NODE_SERVER_H
#define AW_NODE_SERVER_H

#include "http.h"

int server_run(node *n);

#endif
