using System.CommandLine;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Cli;

/// <summary><c>junction identity conflicts</c>: the links the identity graph refused, for review (docs/identity.md).</summary>
public static class IdentityCommands
{
    public static Command Identity(Func<Option<string>> configOption)
    {
        var config = configOption();
        var limit = new Option<int>("--limit") { Description = "At most this many, newest first (default 100).", DefaultValueFactory = _ => Project.IdentityApi.DefaultLimit };
        var conflicts = new Command("conflicts", "Links refused for review: merges that would break an identifier limit or that an unauthenticated source (a form) asked for.")
        {
            config, limit,
        };
        conflicts.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(config)!, async cli =>
        {
            var rows = await ((RelationalStore)cli.Store).ListIdentityConflictsAsync(Math.Clamp(parse.GetValue(limit), 1, Project.IdentityApi.MaxLimit), ct);
            if (rows.Count == 0) await Console.Out.WriteLineAsync("no identity conflicts");
            foreach (var c in rows)
            {
                await Console.Out.WriteLineAsync($"{Iso.Utc(c.At)}  people {string.Join(", ", c.People)}  identifiers {string.Join(", ", c.Identifiers)}  "
                    + $"event {c.EventId}  went to {c.AttachedTo}  ({c.Reason})");
            }
            return 0;
        }, ct));
        return new Command("identity", "Identity review.") { conflicts };
    }
}
