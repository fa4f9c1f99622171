/* Tests for commands: which /command a member's line names, and its
 * argument. */
#include <string.h>

#include "commands.h"

static const struct {
    const char *body, *name, *arg;
} lines[] = {
    {"/help", "help", ""},
    {"/WHO", "who", ""},
    {"/nick  New Name ", "nick", "New Name"},
    {"/history 5", "history", "5"},
    {"/mute", "mute", ""},
    {"/unmute", "unmute", ""},
    {"/leave", "leave", ""},
    {"/forgetme now", "forgetme", "now"},
    {"/nickname x", NULL, NULL},
    {"/hel", NULL, NULL},
    {"/", NULL, NULL},
    {"help", NULL, NULL},
};

static void a_line_names_a_command_by_its_whole_word_in_any_case(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
        char *arg = NULL;
        int c = commands_find(lines[i].body, &arg);
        g_assert_cmpstr(commands_name(c), ==, lines[i].name);
        g_assert_cmpstr(arg, ==, lines[i].arg);
        g_free(arg);
    }
}

static void history_asks_for_the_default_and_is_clamped(void)
{
    static const struct {
        const char *arg;
        int want;
    } counts[] = {
        {"", COMMANDS_HISTORY_DEFAULT},
        {"3", 3},
        {"0", 1},
        {"-4", 1},
        {"1000", COMMANDS_HISTORY_MAX},
        {"abc", 1},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(counts); i++)
        g_assert_cmpint(commands_history_count(counts[i].arg), ==,
                        counts[i].want);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func(
        "/commands/a_line_names_a_command_by_its_whole_word_in_any_case",
        a_line_names_a_command_by_its_whole_word_in_any_case);
    g_test_add_func("/commands/history_asks_for_the_default_and_is_clamped",
                    history_asks_for_the_default_and_is_clamped);
    return g_test_run();
}
