/* udp-send.c - the container's UDP sender for bench/net-vm-ctr.py: LEN-byte
 * datagrams (zeros) to IP:PORT at RATE per second (0: as fast as the
 * socket takes them), BURST at a time by sendmmsg(), until SIGTERM or
 * SIGINT; then prints "sent=N failed=N secs=S" (datagrams the kernel took,
 * ones it refused, time from the first burst). Pacing is by absolute
 * deadlines (clock_nanosleep on CLOCK_MONOTONIC); a sender that falls
 * behind its schedule by more than a burst starts a new one rather than
 * catching up, so the offered rate is at most RATE and the printed one is
 * what was offered. One sender for both VMMs: C, so that its own cost per
 * datagram (the CPU it takes from the core the VMM's I/O thread shares)
 * is small and the same on both sides.
 * Build: cc -O2 -o udp-send bench/udp-send.c
 * Usage: udp-send IP PORT LEN RATE [BURST] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST_MAX 64
#define LEN_MAX 65507 /* the largest UDP payload over IPv4 */
#define NSEC 1000000000LL

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static void sleep_until(long long t)
{
	struct timespec ts = { .tv_sec = t / NSEC, .tv_nsec = t % NSEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
		;
}

struct opts {
	struct sockaddr_in dst;
	long len, rate, burst;
};

static int parse(int argc, char **argv, struct opts *o)
{
	o->dst = (struct sockaddr_in){ .sin_family = AF_INET };
	o->burst = 32;
	if (argc < 5 || argc > 6 || inet_pton(AF_INET, argv[1], &o->dst.sin_addr) != 1) {
		fprintf(stderr, "usage: udp-send IP PORT LEN RATE [BURST]\n");
		return -1;
	}
	o->dst.sin_port = htons((unsigned short)atoi(argv[2]));
	o->len = atol(argv[3]);
	o->rate = atol(argv[4]);
	if (argc == 6)
		o->burst = atol(argv[5]);
	if (o->len < 1 || o->len > LEN_MAX || o->rate < 0 || o->burst < 1 || o->burst > BURST_MAX) {
		fprintf(stderr, "udp-send: LEN 1..%d, RATE >= 0, BURST 1..%d\n", LEN_MAX,
			BURST_MAX);
		return -1;
	}
	return 0;
}

/* Sends until stop; *sent and *failed count datagrams. */
static void run(int fd, struct opts *o, long long *sent, long long *failed)
{
	static char buf[LEN_MAX];
	struct iovec iov = { buf, (size_t)o->len };
	struct mmsghdr msgs[BURST_MAX];
	long long next = now_ns(), gap = o->rate ? o->burst * NSEC / o->rate : 0;

	for (long i = 0; i < o->burst; i++)
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &o->dst,
						   .msg_namelen = sizeof(o->dst),
						   .msg_iov = &iov,
						   .msg_iovlen = 1 };
	while (!stop) {
		int n = sendmmsg(fd, msgs, (unsigned)o->burst, 0);

		if (n > 0)
			*sent += n;
		*failed += n < 0 ? o->burst : o->burst - n;
		if (!o->rate)
			continue;
		next += gap;
		if (next < now_ns() - gap)
			next = now_ns(); /* behind by more than a burst: a new schedule */
		else
			sleep_until(next);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	long long sent = 0, failed = 0, start;
	struct opts o;
	int fd;

	if (parse(argc, argv, &o) < 0)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udp-send: socket");
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	start = now_ns();
	run(fd, &o, &sent, &failed);
	printf("sent=%lld failed=%lld secs=%.6f\n", sent, failed,
	       (double)(now_ns() - start) / NSEC);
	return 0;
}
