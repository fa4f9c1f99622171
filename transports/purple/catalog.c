/* catalog: the protocol plugins and their account options (catalog.h). */
#include "catalog.h"

#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <purple.h>

#include "ui.h"

/* The types an option may have, as the core's check names them. */
static const struct {
    PurplePrefType type;
    const char *name;
} type_names[] = {
    {PURPLE_PREF_STRING, "string"},
    {PURPLE_PREF_INT, "int"},
    {PURPLE_PREF_BOOLEAN, "bool"},
    {PURPLE_PREF_STRING_LIST, "choice"},
};

static const char *type_name(PurplePrefType type)
{
    for (gsize i = 0; i < G_N_ELEMENTS(type_names); i++)
        if (type_names[i].type == type)
            return type_names[i].name;
    return "string";
}

static gint by_id(gconstpointer a, gconstpointer b)
{
    const PurplePlugin *pa = a, *pb = b;

    return strcmp(pa->info->id, pb->info->id);
}

static void print_protocol(const PurplePlugin *p)
{
    PurplePluginProtocolInfo *info = PURPLE_PLUGIN_PROTOCOL_INFO(p);

    printf("protocol\t%s\t%s\n", p->info->id,
           p->info->name ? p->info->name : p->info->id);
    for (GList *o = info ? info->protocol_options : NULL; o; o = o->next) {
        PurplePrefType type = purple_account_option_get_type(o->data);

        printf("option\t%s\t%s\t%s", p->info->id,
               purple_account_option_get_setting(o->data), type_name(type));
        for (GList *l = type == PURPLE_PREF_STRING_LIST
                            ? purple_account_option_get_list(o->data)
                            : NULL;
             l; l = l->next) {
            const PurpleKeyValuePair *kv = l->data;
            if (kv->value)
                printf("\t%s", (const char *)kv->value);
        }
        printf("\n");
    }
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return g_remove(path) < 0 ? -1 : 0;
}

int catalog_print(const char *plugin_dir)
{
    GError *err = NULL;
    char *dir = g_dir_make_tmp("imgroups-purple-XXXXXX", &err);
    GList *sorted;
    int rc = -1;

    if (!dir) {
        g_warning("cannot make a temporary directory: %s", err->message);
        g_error_free(err);
        return -1;
    }
    if (ui_init(dir, plugin_dir, FALSE) < 0)
        goto leave;
    sorted = g_list_sort(g_list_copy(purple_plugins_get_protocols()), by_id);
    for (GList *l = sorted; l; l = l->next)
        print_protocol(l->data);
    g_list_free(sorted);
    fflush(stdout);
    ui_quit();
    rc = 0;
leave:
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    g_free(dir);
    return rc;
}
