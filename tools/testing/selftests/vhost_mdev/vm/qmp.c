// SPDX-License-Identifier: GPL-2.0-only
/*
 * qmp SOCKET COMMAND [ARGUMENTS-JSON]: one QMP command to the QEMU whose
 * monitor listens on the unix socket SOCKET (-qmp unix:SOCKET,server=on,
 * wait=off), for the L2 scenarios inside the test VM, which has no socat.
 * Prints the reply's "return" value (JSON) and exits 0, or prints the
 * error and exits 1; events that arrive meanwhile are skipped.
 *
 *   qmp /tmp/l2.qmp query-status
 *   qmp /tmp/l2.qmp migrate '{"uri": "unix:/tmp/mig.sock"}'
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define TIMEOUT_S	60

static char buf[1 << 20];
static size_t used;

/* The next line from QEMU, or NULL. */
static char *next_line(int fd)
{
	static size_t start;
	char *nl;
	ssize_t n;

	if (start) {
		memmove(buf, buf + start, used - start);
		used -= start;
		start = 0;
	}
	while (!(nl = memchr(buf, '\n', used))) {
		if (used == sizeof(buf) - 1)
			return NULL;
		n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			return NULL;
		used += n;
	}
	*nl = '\0';
	start = nl - buf + 1;
	return buf;
}

/* Skip events: the next line that is a reply. */
static char *reply(int fd)
{
	char *line;

	while ((line = next_line(fd)))
		if (strstr(line, "\"return\"") || strstr(line, "\"error\""))
			return line;
	return NULL;
}

static int send_line(int fd, const char *s)
{
	size_t len = strlen(s);

	return write(fd, s, len) == (ssize_t)len && write(fd, "\n", 1) == 1 ?
	       0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = TIMEOUT_S };
	char cmd[8192], *line, *ret;
	int fd;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: qmp SOCKET COMMAND [ARGUMENTS-JSON]\n");
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "qmp: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!next_line(fd) ||
	    send_line(fd, "{\"execute\": \"qmp_capabilities\"}") ||
	    !reply(fd)) {
		fprintf(stderr, "qmp: no QMP greeting on %s\n", argv[1]);
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "{\"execute\": \"%s\"%s%s}", argv[2],
		 argc == 4 ? ", \"arguments\": " : "", argc == 4 ? argv[3] : "");
	line = send_line(fd, cmd) ? NULL : reply(fd);
	if (!line) {
		fprintf(stderr, "qmp: %s: no reply\n", argv[2]);
		return 1;
	}
	ret = strstr(line, "\"return\":");
	if (!ret) {
		printf("%s\n", line);
		return 1;
	}
	/* {"return": VALUE}: print VALUE, without the closing brace. */
	ret += strlen("\"return\":");
	ret += strspn(ret, " ");
	if (strlen(ret) && ret[strlen(ret) - 1] == '}')
		ret[strlen(ret) - 1] = '\0';
	printf("%s\n", ret);
	close(fd);
	return 0;
}
