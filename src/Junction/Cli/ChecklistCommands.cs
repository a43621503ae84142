using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Audit;
using Junction.Config;

namespace Junction.Cli;

/// <summary><c>junction checklist [--live] [--json]</c>: the pre-launch checks, a ✓/✗ line each with the fix; exit 0 when all pass, 1 otherwise.</summary>
public static class ChecklistCommands
{
    public static Command Checklist(Func<Option<string>> configOption)
    {
        var config = configOption();
        var live = new Option<bool>("--live") { Description = "Also drive a smoke run end to end through a running junction serve (see junction smoke)." };
        var url = SmokeCommands.UrlOption();
        var json = new Option<bool>("--json") { Description = "Print {\"ok\":bool,\"checks\":[{\"check\",\"ok\",\"detail\",\"fix\"}]}." };
        var command = new Command("checklist", "Pre-launch checks, dry run: config, credentials, mapped tags and courses, products, landing pages, paused destinations.")
        {
            config, live, url, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(config)!;
            List<CheckItem> items;
            try
            {
                var loaded = File.Exists(path) ? ConfigLoader.LoadFile(path) : throw new ConfigException([new ConfigError("config", $"file {path} not found")]);
                await using var cli = await CliServices.CreateAsync(loaded, ct);
                var progress = new Progress<string>(line => Console.Error.WriteLine(line));
                items = [.. await cli.Get<Checklist>().RunAsync(parse.GetValue(json) ? null : progress, ct)];
                if (parse.GetValue(live))
                {
                    if (loaded.Smoke is null)
                    {
                        items.Add(new CheckItem("live smoke run", false, "smoke: is not configured", "add a smoke: section with source and product (README, \"Smoke tests\")"));
                    }
                    else if (SmokeCommands.TryTarget(loaded, parse.GetValue(url), out var target))
                    {
                        var outcome = await cli.Get<SmokeRunner>().RunAsync("checklist", target, parse.GetValue(json) ? null : progress, ct);
                        await SmokeCommands.RecordAsync(cli, outcome, ct);
                        items.Add(SmokeCommands.Item(outcome));
                    }
                    else
                    {
                        items.Add(new CheckItem("live smoke run", false, "--url is not an http(s) address", "give --url http://host:port of the running junction serve"));
                    }
                }
            }
            catch (ConfigException ex)
            {
                items = [.. ex.Errors.Select(e => new CheckItem("config", false, e.ToString(), "fix the key named, then run junction check-config"))];
            }
            var ok = items.All(i => i.Ok);
            if (parse.GetValue(json))
            {
                var checks = new JsonArray([.. items.Select(i => (JsonNode)new JsonObject { ["check"] = i.Check, ["ok"] = i.Ok, ["detail"] = i.Detail, ["fix"] = i.Fix })]);
                Console.Out.WriteLine(new JsonObject { ["ok"] = ok, ["checks"] = checks }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                foreach (var i in items)
                {
                    Console.Out.WriteLine($"{(i.Ok ? "✓" : "✗")} {i.Check}: {i.Detail}");
                    if (!i.Ok && i.Fix is not null) Console.Out.WriteLine($"    fix: {i.Fix}");
                }
                Console.Out.WriteLine(ok ? "all checks passed" : $"{items.Count(i => !i.Ok)} of {items.Count} checks failed");
            }
            return ok ? 0 : 1;
        });
        return command;
    }
}
