/* Board hooks of the generated datalogger for QEMU's MPS2 boards (test firmware).
 *
 * - The UART: CMSDK APB UART0 at 0x40004000, which QEMU connects to its first -serial
 *   (a TCP socket in the test). printf reaches it through newlib's _write(); every
 *   byte is also sent over semihosting (SYS_WRITEC), so the test knows exactly what
 *   the firmware printed, independently of the serial capture.
 * - The timer: board_idle() stands for the timer interrupt (one tick per call).
 * - The sensor: deterministic, integer-derived values the test recomputes:
 *   axis a of sample n is ((n * 37 + a * 101) % 2001 - 1000) / 250.
 */
#include <stdint.h>
#include <sys/types.h>

#ifndef NB_AXES
#error "NB_AXES must be given (-DNB_AXES=...)"
#endif

#define UART0_DATA (*(volatile uint32_t *)0x40004000u)
#define UART0_STATE (*(volatile uint32_t *)0x40004004u)
#define UART0_CTRL (*(volatile uint32_t *)0x40004008u)
#define UART0_BAUDDIV (*(volatile uint32_t *)0x40004010u)

void datalogger_tick(void);
void board_init(void);
void read_sensor(float out[NB_AXES]);
void board_idle(void);
int _write(int fd, const char *data, int length);
void initialise_monitor_handles(void);

static uint32_t sample;

static void semihost_writec(char c)
{
    register int r0 __asm__("r0") = 0x03; /* SYS_WRITEC */
    register const char *r1 __asm__("r1") = &c;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

void initialise_monitor_handles(void)
{
    /* the startup calls it for rdimon; this firmware prints through the UART */
}

void board_init(void)
{
    volatile uint32_t wait;
    UART0_BAUDDIV = 16u;
    UART0_CTRL = 1u; /* TX enable */
    /* The guest starts as the capture connects; pyserial's socket:// empties its input
     * right after connecting: print nothing before it has (a few ms of guest time). */
    for (wait = 0u; wait < 3000000u; wait++) {
    }
}

void read_sensor(float out[NB_AXES])
{
    int axis;
    for (axis = 0; axis < NB_AXES; axis++) {
        int32_t code = (int32_t)((sample * 37u + (uint32_t)axis * 101u) % 2001u) - 1000;
        out[axis] = (float)code / 250.0f;
    }
    sample++;
}

void board_idle(void)
{
    datalogger_tick();
}

int _write(int fd, const char *data, int length)
{
    int i;
    (void)fd;
    for (i = 0; i < length; i++) {
        while (UART0_STATE & 1u) { /* TX buffer full */
        }
        UART0_DATA = (uint32_t)(unsigned char)data[i];
        semihost_writec(data[i]);
    }
    return length;
}
