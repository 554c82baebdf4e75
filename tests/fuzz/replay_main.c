/*
 * Replay driver: feeds each file named on the command line (or each file
 * of each directory named) to LLVMFuzzerTestOneInput, so the fuzz corpus
 * runs in CI without libFuzzer. Exit 0 when every input ran.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Largest input replayed. */
#define REPLAY_INPUT_MAX (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs one file; returns 0 or -1. */
static int replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        uint8_t *buf = NULL;
        size_t n;

        if (!f) {
                fprintf(stderr, "replay: cannot open %s\n", path);
                return -1;
        }
        if (!(buf = malloc(REPLAY_INPUT_MAX))) {
                fclose(f);
                return -1;
        }
        n = fread(buf, 1, REPLAY_INPUT_MAX, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        return 0;
}

/* Runs @path, or every regular file in it when it is a directory. */
static int replay_path(const char *path, size_t *cnt)
{
        struct stat st;
        struct dirent *de;
        DIR *d;
        char sub[4096];
        int rc = 0;

        if (stat(path, &st))
                return -1;
        if (!S_ISDIR(st.st_mode)) {
                (*cnt)++;
                return replay_file(path);
        }
        if (!(d = opendir(path)))
                return -1;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
                if (!stat(sub, &st) && S_ISREG(st.st_mode)) {
                        (*cnt)++;
                        rc |= replay_file(sub);
                }
        }
        closedir(d);
        return rc;
}

int main(int argc, char **argv)
{
        size_t cnt = 0;
        int i, rc = 0;

        for (i = 1; i < argc; i++)
                rc |= replay_path(argv[i], &cnt);
        printf("replayed %zu inputs\n", cnt);
        return rc || cnt == 0 ? 1 : 0;
}
