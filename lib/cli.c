
/*
 * cli.c -- see cli.h.
 */


#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"


#define CLI_OPT_VAL  256        /* a table's option: + its index */


int
cli_main(const cli_t *cli, int argc, char **argv)
{
    int                   rc;
    const char           *cmd;
    const cli_command_t  *c;

    if (argc < 2) {
        return cli_usage_error(cli->prog, "missing command");
    }

    cmd = argv[1];

    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0
        || strcmp(cmd, "help") == 0)
    {
        cli->help(stdout);
        return CLI_OK;
    }

    for (c = cli->commands; c->name; c++) {
        if (strcmp(cmd, c->name) == 0) {
            break;
        }
    }

    if (c->name == NULL) {
        return cli_usage_error(cli->prog, "unknown command \"%s\"", cmd);
    }

    if (cli->init && cli->init() != 0) {
        return CLI_USAGE;
    }

    rc = c->run(argc - 1, argv + 1);

    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing the output: %s\n", cli->prog,
                strerror(errno));
        rc = CLI_USAGE;
    }

    if (cli->fini) {
        cli->fini();
    }

    return rc;
}


void
cli_options(void)
{
    optind = 1;
    opterr = 0;
}


int
cli_option(const char *prog, const char *cmd, int argc, char **argv,
    const struct option *longopts, int first, int n, unsigned char *seen)
{
    int          c, i;
    const char  *name;

    i = -1;
    c = getopt_long(argc, argv, ":", longopts, &i);

    if (c == -1) {
        return CLI_END;
    }

    if (c == '?' || c == ':') {
        name = (optind > 0 && optind <= argc) ? argv[optind - 1] : "";

        cli_usage_error(prog, c == ':' ? "%s: option \"%s\" needs a value"
                                       : "%s: unknown option \"%s\"",
                        cmd, name);
        return CLI_BAD;
    }

    if (c < first || c >= first + n) {
        cli_usage_error(prog, "%s: bad option", cmd);
        return CLI_BAD;
    }

    if (seen[c - first]) {
        cli_usage_error(prog, "%s: option \"--%s\" given twice", cmd,
                        i >= 0 ? longopts[i].name : "?");
        return CLI_BAD;
    }

    seen[c - first] = 1;

    return c;
}


int
cli_parse_options(const char *prog, const char *cmd, int argc, char **argv,
    const cli_opt_t *table, unsigned which, unsigned char *seen,
    cli_opt_pt option, void *opts)
{
    int            c, i, n, rc;
    struct option  longopts[CLI_OPTS_MAX + 1];

    /* the command's options, in the table's order */

    for (i = 0, n = 0; table[i].name; i++) {
        if (i == CLI_OPTS_MAX) {
            return cli_usage_error(prog, "%s: too many options", cmd);
        }

        if (table[i].cmds & which) {
            longopts[n].name = table[i].name;
            longopts[n].has_arg = table[i].has_arg;
            longopts[n].flag = NULL;
            longopts[n].val = CLI_OPT_VAL + i;
            n++;
        }
    }

    memset(&longopts[n], 0, sizeof(struct option));

    cli_options();

    for ( ;; ) {
        c = cli_option(prog, cmd, argc, argv, longopts, CLI_OPT_VAL, i,
                       seen);

        if (c == CLI_END) {
            return CLI_OK;
        }

        if (c == CLI_BAD) {
            return CLI_USAGE;
        }

        rc = option(opts, cmd, c - CLI_OPT_VAL);
        if (rc != CLI_OK) {
            return rc;
        }
    }
}


void
cli_store(const cli_opt_t *opt, void *opts)
{
    unsigned char  *p;

    p = (unsigned char *) opts + opt->offset;

    if (opt->has_arg) {
        *(const char **) p = optarg;

    } else {
        *p = 1;
    }
}


int
cli_usage_error(const char *prog, const char *fmt, ...)
{
    va_list  args;

    fprintf(stderr, "%s: ", prog);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fprintf(stderr, "\nTry \"%s --help\".\n", prog);

    return CLI_USAGE;
}
