/* Bare-metal entry point: bring up the port, greet on the console, serve the host. */
#include "kt_port.h"
#include "kt_protocol.h"
#include "kt_server.h"

#define STR2(x) #x
#define STR(x) STR2(x)

int main(void)
{
    kt_port_init();
    /* Plain text for a human on a terminal; the host's frame decoder skips it as garbage. */
    static const char banner[] = "\r\nkenning-tasks target, protocol v" STR(KT_PROTOCOL_VERSION) "\r\n";
    kt_port_write((const uint8_t *)banner, sizeof banner - 1);
    kt_server_run();
}
