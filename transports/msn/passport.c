/* passport: the Passport 1.4 (TWN) login (see passport.h). */
#include "passport.h"

#include <string.h>

#include "ns.h"
#include "secret.h"

#define USER_AGENT "MSMSGS"

/* The Authorization header's fixed part: the site Messenger signs in to. */
#define ORG_PART "OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom"

static void on_login(PurpleUtilFetchUrlData *req, gpointer data,
                     const gchar *text, gsize len, const gchar *error);

static void fail_http(msn_session *s, const char *step, const char *error)
{
    char *why = g_strdup_printf("Passport %s failed: %s", step,
                                error ? error : "no answer");

    msn_session_fail(s, PURPLE_CONNECTION_ERROR_NETWORK_ERROR, why);
    g_free(why);
}

/* The login server's URL: DALogin has no scheme; it takes the nexus's. */
static char *login_url(const char *nexus, const char *dalogin)
{
    if (strstr(dalogin, "://"))
        return g_strdup(dalogin);
    return g_strdup_printf("%s://%s",
                           g_str_has_prefix(nexus, "https:") ? "https" : "http",
                           dalogin);
}

static void ask_ticket(msn_session *s, const char *url)
{
    char *host = NULL, *path = NULL, *email, *pwd, *request;
    int port = 0;

    if (!purple_url_parse(url, &host, &port, &path, NULL, NULL)) {
        msn_session_fail(s, PURPLE_CONNECTION_ERROR_OTHER_ERROR,
                         "the Passport nexus gave an invalid login URL");
        return;
    }
    email = msnp_url_encode(s->login, FALSE);
    pwd = msnp_url_encode(purple_connection_get_password(s->gc)
                              ? purple_connection_get_password(s->gc)
                              : "",
                          FALSE);
    request = g_strdup_printf("GET /%s HTTP/1.1\r\n"
                              "Authorization: Passport1.4 %s"
                              ",sign-in=%s,pwd=%s,%s\r\n"
                              "User-Agent: " USER_AGENT "\r\n"
                              "Host: %s\r\n"
                              "Connection: close\r\n"
                              "Cache-Control: no-cache\r\n"
                              "\r\n",
                              path ? path : "", ORG_PART, email, pwd,
                              s->twn_challenge ? s->twn_challenge : "", host);
    purple_debug_info("msn", "Passport login at %s\n", host);
    s->http = purple_util_fetch_url_request(url, FALSE, USER_AGENT, TRUE,
                                            request, TRUE, on_login, s);
    secret_free(request);
    secret_free(pwd);
    g_free(email);
    g_free(host);
    g_free(path);
    if (!s->http)
        fail_http(s, "login", "could not start the request");
}

static void on_nexus(PurpleUtilFetchUrlData *req, gpointer data,
                     const gchar *text, gsize len, const gchar *error)
{
    msn_session *s = data;
    const char *nexus =
        purple_account_get_string(s->acct, MSN_OPT_NEXUS, MSN_DEFAULT_NEXUS);
    char *urls, *dalogin, *url;

    s->http = NULL;
    if (!text || len == 0) {
        fail_http(s, "nexus", error);
        return;
    }
    urls = msnp_http_header(text, len, "PassportURLs");
    dalogin = msnp_passport_dalogin(urls);
    g_free(urls);
    if (!dalogin) {
        msn_session_fail(s, PURPLE_CONNECTION_ERROR_OTHER_ERROR,
                         "the Passport nexus named no login server");
        return;
    }
    url = login_url(nexus, dalogin);
    ask_ticket(s, url);
    g_free(url);
    g_free(dalogin);
}

static void on_login(PurpleUtilFetchUrlData *req, gpointer data,
                     const gchar *text, gsize len, const gchar *error)
{
    msn_session *s = data;
    char *info, *ticket;
    int status;

    s->http = NULL;
    if (!text || len == 0) {
        fail_http(s, "login", error);
        return;
    }
    status = msnp_http_status(text, len);
    if (status == 401) {
        msn_session_fail(s, PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED,
                         "Passport refused the sign-in: wrong password or "
                         "unknown account");
        return;
    }
    info = msnp_http_header(text, len, "Authentication-Info");
    ticket = msnp_passport_ticket(info);
    g_free(info);
    if (!ticket) {
        char *why =
            g_strdup_printf("Passport login gave no ticket (HTTP %d)", status);

        msn_session_fail(s,
                         status >= 500 || status < 0
                             ? PURPLE_CONNECTION_ERROR_NETWORK_ERROR
                             : PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED,
                         why);
        g_free(why);
        return;
    }
    /* The ticket lives about 30 s: used at once. */
    ns_ticket(s, ticket);
    secret_free(ticket);
}

void passport_login(msn_session *s)
{
    const char *nexus =
        purple_account_get_string(s->acct, MSN_OPT_NEXUS, MSN_DEFAULT_NEXUS);

    passport_cancel(s);
    if (g_str_has_prefix(nexus, "https:") && !purple_ssl_is_supported()) {
        msn_session_fail(s, PURPLE_CONNECTION_ERROR_NO_SSL_SUPPORT,
                         "the Passport nexus needs HTTPS, and libpurple has "
                         "no SSL plugin");
        return;
    }
    /* full FALSE: the request line carries the path, not the whole URL. */
    s->http = purple_util_fetch_url_request(nexus, FALSE, USER_AGENT, FALSE,
                                            NULL, TRUE, on_nexus, s);
    if (!s->http)
        fail_http(s, "nexus", "could not start the request");
}

void passport_cancel(msn_session *s)
{
    if (s->http)
        purple_util_fetch_url_cancel(s->http);
    s->http = NULL;
}
