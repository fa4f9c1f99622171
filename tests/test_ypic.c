/* test_ypic: Yahoo display pictures, the fetch request and the file type
 * (transports/yahoo/ypic.c). */
#include <string.h>

#include <glib.h>

#include "ypic.h"

static void a_request_to_the_server_carries_the_cookies(void)
{
    char *req = ypic_request("127.0.0.1", 8080, "pictures/carol.png", "v=1&n=x",
                             "z=2&a=");

    g_assert_cmpstr(req, ==,
                    "GET /pictures/carol.png HTTP/1.0\r\n"
                    "Host: 127.0.0.1:8080\r\n"
                    "User-Agent: Mozilla/4.0 (compatible; MSIE 5.5)\r\n"
                    "Cookie: Y=v=1&n=x; T=z=2&a=\r\n"
                    "\r\n");
    g_free(req);
}

static void a_request_without_both_cookies_carries_none(void)
{
    char *req = ypic_request("pics.example", 80, "", "v=1", NULL);

    g_assert_nonnull(req);
    g_assert_true(g_str_has_prefix(req, "GET / HTTP/1.0\r\n"));
    g_assert_null(strstr(req, "Cookie"));
    g_free(req);
}

struct bad_request_case {
    const char *name, *host, *path;
    int port;
};

static const struct bad_request_case bad_requests[] = {
    {"a_line_break_in_the_path_is_refused", "h", "a\r\nX: 1", 80},
    {"a_blank_in_the_path_is_refused", "h", "a b.png", 80},
    {"a_non_ascii_path_is_refused", "h", "\xc3\xa9.png", 80},
    {"an_empty_host_is_refused", "", "a.png", 80},
    {"a_host_with_a_slash_is_refused", "h/x", "a.png", 80},
    {"a_port_out_of_range_is_refused", "h", "a.png", 70000},
};

static void run_bad_request(gconstpointer data)
{
    const struct bad_request_case *c = data;

    g_assert_null(ypic_request(c->host, c->port, c->path, NULL, NULL));
}

static void a_cookie_that_is_not_one_is_left_out(void)
{
    char *req = ypic_request("h", 80, "a.png", "v=1\r\nX: 1", "z=2");

    g_assert_null(strstr(req, "Cookie"));
    g_assert_null(strstr(req, "X: 1"));
    g_free(req);
}

struct type_case {
    const char *name;
    const char *data;
    gsize len;
    const char *type;
};

static const struct type_case type_cases[] = {
    {"a_png_is_a_png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, "png"},
    {"a_jpeg_is_a_jpeg", "\xff\xd8\xff\xe0\0\x10JFIF", 10, "jpeg"},
    {"a_gif_is_a_gif", "GIF89a\1\0\1\0", 10, "gif"},
    {"an_error_page_is_no_picture", "<html>404</html>", 16, NULL},
    {"a_truncated_magic_is_no_picture", "\x89PNG", 4, NULL},
    {"nothing_is_no_picture", "", 0, NULL},
};

static void run_type(gconstpointer data)
{
    const struct type_case *c = data;

    g_assert_cmpstr(ypic_image_type((const guint8 *)c->data, c->len), ==,
                    c->type);
}

static void checksums_are_decimal_numbers(void)
{
    g_assert_true(ypic_checksum_ok("1234567"));
    g_assert_true(ypic_checksum_ok("-42"));
    g_assert_false(ypic_checksum_ok(NULL));
    g_assert_false(ypic_checksum_ok(""));
    g_assert_false(ypic_checksum_ok("-"));
    g_assert_false(ypic_checksum_ok("12a"));
    g_assert_false(ypic_checksum_ok("123456789012345678901"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ypic/a_request_to_the_server_carries_the_cookies",
                    a_request_to_the_server_carries_the_cookies);
    g_test_add_func("/ypic/a_request_without_both_cookies_carries_none",
                    a_request_without_both_cookies_carries_none);
    g_test_add_func("/ypic/a_cookie_that_is_not_one_is_left_out",
                    a_cookie_that_is_not_one_is_left_out);
    for (gsize i = 0; i < G_N_ELEMENTS(bad_requests); i++) {
        char *path = g_strdup_printf("/ypic/%s", bad_requests[i].name);

        g_test_add_data_func(path, &bad_requests[i], run_bad_request);
        g_free(path);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(type_cases); i++) {
        char *path = g_strdup_printf("/ypic/%s", type_cases[i].name);

        g_test_add_data_func(path, &type_cases[i], run_type);
        g_free(path);
    }
    g_test_add_func("/ypic/checksums_are_decimal_numbers",
                    checksums_are_decimal_numbers);
    return g_test_run();
}
