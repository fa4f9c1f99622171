/* fuzz_config: libFuzzer target for the configuration reader
 * (component/config.c): config_load_data() on arbitrary text. It either
 * gives a config and no problem, or no config and at least one problem;
 * what it gives holds what validation promises (a JID domain, a port, a
 * storage path, every account complete), and nothing leaks (libFuzzer's
 * leak check runs after each input). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "config.h"
#include "jid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_config(const config *cfg)
{
    if (!cfg->jid || !jid_domain_valid(cfg->jid) || !cfg->host ||
        cfg->port == 0 || !cfg->secret || !cfg->storage_path || !cfg->name ||
        !cfg->accounts)
        abort();
    for (char **a = cfg->admins; a && *a; a++)
        if (!g_utf8_validate(*a, -1, NULL))
            abort();
    for (guint i = 0; i < cfg->accounts->len; i++) {
        const config_account *a = g_ptr_array_index(cfg->accounts, i);

        if (!a->name || !a->protocol || !a->username || !a->group ||
            !a->options || (a->mode == CONFIG_MODE_CHAT && !a->chat))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    config *cfg = NULL;
    int rc =
        config_load_data("fuzz.ini", (const char *)data, size, &cfg, problems);

    if (rc == 0) {
        if (!cfg || problems->len != 0)
            abort();
        check_config(cfg);
        config_free(cfg);
    } else if (rc < 0) {
        if (cfg || problems->len == 0)
            abort();
    } else {
        abort(); /* 0 or negative, nothing else */
    }
    /* Every problem names the file, as the contract says. */
    for (guint i = 0; i < problems->len; i++)
        if (!g_str_has_prefix(g_ptr_array_index(problems, i), "fuzz.ini: "))
            abort();
    g_ptr_array_unref(problems);
    return 0;
}
