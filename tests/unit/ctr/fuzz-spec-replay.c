/* Replays every file of a corpus directory through the config.json fuzz
 * entry point; TAP output, one test per file. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct dirent **ents;
	int n, t = 0, fails = 0;
	char path[4096];

	if (argc < 2 || (n = scandir(argv[1], &ents, NULL, alphasort)) < 0) {
		printf("1..0 # SKIP no corpus directory\n");
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", argv[1], ents[i]->d_name);
			t++;
			if (replay(path) < 0) {
				printf("not ok %d - %s\n", t, ents[i]->d_name);
				fails++;
			} else {
				printf("ok %d - %s\n", t, ents[i]->d_name);
			}
		}
		free(ents[i]);
	}
	free(ents);
	printf("1..%d\n", t);
	return fails ? 1 : 0;
}
