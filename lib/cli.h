
/*
 * cli.h -- the command line of the project's tools with subcommands
 * (scripts/compliance-audit.c, scripts/compliance-token.c): "PROG
 * COMMAND [ARGS]", help, the commands' options (one table a tool, each
 * option naming the commands that take it and where its value goes), and
 * how a usage error is told (the message, then where the help is; exit
 * code 2).
 */


#ifndef CLI_H
#define CLI_H


#include <stddef.h>
#include <stdio.h>
#include <getopt.h>


#define CLI_OK     0
#define CLI_USAGE  2

#define CLI_END    -1           /* cli_option(): no more options */
#define CLI_BAD    -2           /* cli_option(): a usage error, told */

#define CLI_OPTS_MAX  32        /* cli_parse_options(): a table's, most */

/* where an option of a cli_opt_t table goes in the tool's options struct */
#define CLI_ARG(type, field)   required_argument, offsetof(type, field)
#define CLI_FLAG(type, field)  no_argument, offsetof(type, field)


typedef struct {
    const char  *name;
    int        (*run)(int argc, char **argv);   /* argv[0]: the command */
} cli_command_t;


typedef struct {
    const char           *prog;
    const cli_command_t  *commands;             /* ended by a NULL name */
    void                (*help)(FILE *out);
    int                 (*init)(void);          /* before a command, or
                                                   NULL; not 0: exit 2 */
    void                (*fini)(void);          /* after it, or NULL */
} cli_t;


/*
 * one option of a tool whose commands share one table of options: its
 * name, whether it takes a value, where cli_store() puts it in the
 * tool's options struct (a const char * for one with a value, an
 * unsigned char set to 1 for a flag) and the commands that take it (the
 * tool's bits)
 */
typedef struct {
    const char           *name;
    int                   has_arg;
    size_t                offset;
    unsigned              cmds;
} cli_opt_t;


/* a tool's reading of option TABLE[I] of cmd (optarg its value): CLI_OK */
typedef int (*cli_opt_pt)(void *opts, const char *cmd, int i);


/*
 * runs the command argv[1] names (help for -h, --help and help) and
 * returns its exit code, CLI_USAGE where the standard output could not
 * be written
 */
int cli_main(const cli_t *cli, int argc, char **argv);

/* before the first cli_option() of a command's argv */
void cli_options(void);

/*
 * the next option of COMMAND's argv, by getopt_long() with LONGOPTS,
 * whose values run from FIRST to FIRST + N - 1: its value (optarg its
 * argument), CLI_END after the last, or CLI_BAD for an unknown option,
 * one without its value or one given twice (SEEN, N flags, notes those
 * given), told as a usage error of PROG
 */
int cli_option(const char *prog, const char *cmd, int argc, char **argv,
    const struct option *longopts, int first, int n, unsigned char *seen);

/*
 * the options of COMMAND's argv by cli_option(), those of TABLE (ended
 * by a NULL name, at most CLI_OPTS_MAX) that the commands WHICH take, in
 * the table's order: each given to OPTION with OPTS and its index in
 * TABLE (SEEN, a flag an entry, notes those given); CLI_OK after the
 * last, CLI_USAGE after a usage error told, or what OPTION returned if
 * not CLI_OK
 */
int cli_parse_options(const char *prog, const char *cmd, int argc,
    char **argv, const cli_opt_t *table, unsigned which, unsigned char *seen,
    cli_opt_pt option, void *opts);

/* OPT's value into OPTS: optarg, or 1 for a flag */
void cli_store(const cli_opt_t *opt, void *opts);

/* "PROG: MESSAGE" and where the help is, on stderr; returns CLI_USAGE */
int cli_usage_error(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


#endif /* CLI_H */
