/* Zephyr entry point: the protocol server runs in the main thread. */
#include "kt_port.h"
#include "kt_server.h"

int main(void)
{
    kt_port_init();
    kt_server_run();
    return 0;
}
