"""`dms search`, `dms searches` and `dms admin reindex`: search the signed-in user's documents
with the query language (docs/search.md), keep searches by name, rebuild the index."""

from __future__ import annotations

import argparse

from ..connect import open_search, reindex_search
from ..core.formatting import plural, printable
from ..core.search.index import DEFAULT_LIMIT, MAX_LIMIT, SearchHit
from ..core.search.query import QuerySyntaxError
from ..core.search.saved import SavedSearches
from .arguments import number_argument
from .context import EXIT_OK, Context, add_command
from .terminal import CountProgress

EXIT_INVALID = QuerySyntaxError.exit_code


def query_text(words: list[str]) -> str:
    """The query from the command line's words. One word is the query as it is (the whole query
    in quotes: `dms search 'invoice OR receipt'`); among several, a word the shell unquoted that
    has spaces in it (`dms search tag:x "annual report"`) is a phrase again."""
    if len(words) == 1:
        return words[0]
    parts = []
    for word in words:
        if any(char.isspace() for char in word) and '"' not in word:
            field, colon, value = word.partition(":")
            if colon and field.isalpha() and " " not in field:
                parts.append(f'{field}:"{value}"')
            else:
                parts.append(f'"{word}"')
        else:
            parts.append(word)
    return " ".join(parts)


def _saved(context: Context) -> SavedSearches:
    return SavedSearches(context.paths.data_dir, context.backend.profile.name, context.user.user_id)


def _print_hit(context: Context, hit: SearchHit) -> None:
    context.print(f"{hit.document_id}  {hit.score:7.2f}  {printable(hit.name.marked())}")
    line = hit.snippet.marked() if hit.snippet.text else ""
    if line:
        context.print(f"    {printable(line)}")
    if hit.note:
        context.print(f"    ({printable(hit.note)})")


def _report_bad_query(context: Context, error: QuerySyntaxError) -> int:
    """The query with a caret under its bad part: several lines, each made printable."""
    lines = str(error).splitlines()
    context.note(f"dms: {printable(lines[0])}")
    for line in lines[1:]:
        context.note(printable(line))
    return EXIT_INVALID


def cmd_search(context: Context) -> int:
    args = context.args
    if args.saved is not None:
        if args.query:
            context.note("dms: give a query or --saved NAME, not both.")
            return EXIT_INVALID
        searches = _saved(context).list()
        if args.saved not in searches:
            names = ", ".join(sorted(searches)) or "none yet"
            context.note(f"dms: there is no saved search named {args.saved!r} ({names}).")
            return 4
        text = searches[args.saved]
    else:
        text = query_text(args.query)
    try:
        if args.save is not None:
            _saved(context).save(args.save, text)
            context.note(f"Saved the search {printable(args.save)!r}: {printable(text)}")
            return EXIT_OK
        results = open_search(context.backend, context.user, context.paths).search(text, args.limit)
    except QuerySyntaxError as error:
        return _report_bad_query(context, error)
    if args.json:
        context.print_json([hit.to_json_dict() for hit in results.hits])
        return EXIT_OK
    for hit in results.hits:
        _print_hit(context, hit)
    count = len(results.hits)
    if count == 0:
        context.note("No documents match.")
    else:
        more = f" (the best {count}; --limit shows more)" if count == args.limit else ""
        context.note(f"{plural(count, 'document')} found{more}.")
    return EXIT_OK


def cmd_searches(context: Context) -> int:
    args = context.args
    saved = _saved(context)
    if args.delete is not None:
        saved.delete(args.delete)
        context.note(f"Deleted the saved search {printable(args.delete)!r}.")
        return EXIT_OK
    searches = saved.list()
    if args.json:
        context.print_json([{"name": name, "query": query} for name, query in searches.items()])
        return EXIT_OK
    if not searches:
        context.note('No saved searches: save one with dms search --save NAME "QUERY".')
    width = max((len(printable(name)) for name in searches), default=0)
    for name, query in searches.items():
        context.print(f"{printable(name):<{width}}  {printable(query)}")
    return EXIT_OK


def cmd_admin_reindex(context: Context) -> int:
    args = context.args
    progress = CountProgress(context.err, "Indexing")
    try:
        count = reindex_search(context.backend, context.user, args.user, progress.update)
    finally:
        progress.finish()
    whose = f"of user {args.user}" if args.user else "of every user"
    context.note(f"Search index rebuilt: {plural(count, 'document')} {whose}.")
    return EXIT_OK


_limit = number_argument(int, 1, "a whole number from 1")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dms search` and `dms searches`."""
    search = add_command(
        commands,
        "search",
        cmd_search,
        "search your documents by words in their names and contents, tags, type, folder, size "
        'and dates: dms search invoice tag:2024 -tag:paid "due date" size:>1M (see docs/search.md)',
    )
    search.add_argument("query", nargs="*", metavar="QUERY", help="the query (words and fields)")
    search.add_argument(
        "--limit",
        type=_limit,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"at most N results, best first (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})",
    )
    search.add_argument("--json", action="store_true", help="the results as JSON")
    search.add_argument("--save", metavar="NAME", help="save the query under NAME (not run)")
    search.add_argument("--saved", metavar="NAME", help="run the search saved as NAME")

    searches = add_command(
        commands, "searches", cmd_searches, "list your saved searches, or delete one"
    )
    searches.add_argument("--delete", metavar="NAME", help="delete the saved search NAME")
    searches.add_argument("--json", action="store_true")


def register_admin(admin_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dms admin reindex`."""
    reindex = admin_commands.add_parser(
        "reindex",
        help="rebuild the search index from the table (one user's entries with --user)",
        description="Rebuild the search index from the Documents table, with progress. Texts "
        "already extracted are reused by checksum; entries of documents no longer in the table "
        "are removed.",
    )
    reindex.add_argument("--user", metavar="ID", help="only this user's documents")
    reindex.set_defaults(handler=cmd_admin_reindex)
