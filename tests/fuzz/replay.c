/* replay: feeds every file of the given corpus directories (or the files
 * given) to LLVMFuzzerTestOneInput once, so that a fuzz target's corpus
 * runs as a plain unit test without libFuzzer. Prints TAP. */
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void collect(const char *path, GPtrArray *files)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (!dir) {
        g_ptr_array_add(files, g_strdup(path));
        g_ptr_array_unref(names);
        return;
    }
    while ((name = g_dir_read_name(dir)))
        g_ptr_array_add(names, g_build_filename(path, name, NULL));
    g_dir_close(dir);
    for (guint i = 0; i < names->len; i++)
        g_ptr_array_add(files, g_strdup(g_ptr_array_index(names, i)));
    g_ptr_array_unref(names);
}

static int by_name(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    int failed = 0;

    for (int i = 1; i < argc; i++)
        collect(argv[i], files);
    /* A stable order, whatever the file system's. */
    g_ptr_array_sort(files, by_name);
    printf("1..%u\n", files->len);
    for (guint i = 0; i < files->len; i++) {
        const char *path = g_ptr_array_index(files, i);
        char *data = NULL;
        gsize len = 0;
        GError *err = NULL;

        if (!g_file_get_contents(path, &data, &len, &err)) {
            printf("not ok %u - %s: %s\n", i + 1, path, err->message);
            g_error_free(err);
            failed++;
            continue;
        }
        /* A crash or abort ends the run: the missing lines fail it. */
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
        printf("ok %u - %s\n", i + 1, path);
        fflush(stdout);
        g_free(data);
    }
    g_ptr_array_unref(files);
    return failed ? 1 : 0;
}
