/*  zc_tools — the small `zcrawl` subcommands that test a crawl's rules
    without running a crawl:

        zcrawl robots ROBOTS_FILE USER_AGENT URL   prints allowed/disallowed,
                                                   exits 0/1 (as Google's robots_main)
        zcrawl url BASE HREF                       prints the canonical URL zcrawl
                                                   would enqueue, or an error (exit 1)

    Each takes the arguments after the command name (argv[0] = the command)
    and returns the process exit status (2 on bad arguments).
*/
#ifndef ZC_TOOLS_H_INCLUDED
#define ZC_TOOLS_H_INCLUDED

int zc_tools_robots_main (int argc, char **argv);
int zc_tools_url_main (int argc, char **argv);

#endif
