/* Runs a command and prints its peak resident set size:
 *   peak_rss COMMAND [ARG ...]  ->  "peak_rss_kb N exit S" on stderr
 * The child's stdout goes to /dev/null; its stderr is kept. The figure is
 * ru_maxrss of the child (its largest RSS over its lifetime), from wait4. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs("usage: peak_rss COMMAND [ARG ...]\n", stderr);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 1);
        execvp(argv[1], argv + 1);
        perror(argv[1]);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wait4");
        return 2;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    fprintf(stderr, "peak_rss_kb %ld exit %d\n", ru.ru_maxrss, code);
    return code;
}
