using System.CommandLine;
using System.Text.Json;
using Junction.Audit;
using Junction.Config;

namespace Junction.Cli;

/// <summary>
/// <c>junction smoke [--config FILE] [--url URL] [--json]</c>: one smoke run against a running
/// <c>junction serve</c> (at <c>--url</c>, else <c>smoke.url</c>, else http://127.0.0.1:5080).
/// Exit 0 when every step held, 1 naming the step that failed, 2 when smoke: is not configured.
/// </summary>
public static class SmokeCommands
{
    public static Command Smoke(Func<Option<string>> configOption)
    {
        var config = configOption();
        var url = UrlOption();
        var json = new Option<bool>("--json") { Description = "Print the run as GET /v1/smoke lists it." };
        var command = new Command("smoke", "Drive a synthetic lead → purchase → refund end to end and check every tool by read-back.") { config, url, json };
        command.SetAction(async (parse, ct) => await NormalizeCommands.WithConfig(parse.GetValue(config)!, async cli =>
        {
            if (!TryTarget(cli.Config, parse.GetValue(url), out var target)) return 2;
            var progress = parse.GetValue(json) ? null : new Progress<string>(line => Console.Error.WriteLine(line));
            var outcome = await cli.Get<SmokeRunner>().RunAsync("cli", target, progress, ct);
            await RecordAsync(cli, outcome, ct);
            if (parse.GetValue(json))
            {
                var run = (await ((Storage.RelationalStore)cli.Store).ListSmokeRunsAsync(50, null, ct)).First(r => r.Id == outcome.Id);
                Console.Out.WriteLine(SmokeApi.Run(run).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                Console.Out.WriteLine(outcome.Passed ? $"smoke {outcome.Id}: every step held" : $"smoke {outcome.Id}: failed at {outcome.FailedStep}");
            }
            return outcome.Passed ? 0 : 1;
        }, ct));
        return command;
    }

    public static Option<string?> UrlOption() => new("--url")
    {
        Description = $"Where junction serve answers (default smoke.url, else {JunctionCli.DefaultUrls}).",
    };

    /// <summary>The serve to drive; false (with the reason on stderr) when smoke is not configured or the URL is not one.</summary>
    public static bool TryTarget(JunctionConfig config, string? url, out Uri target)
    {
        target = null!;
        if (config.Smoke is not { } smoke)
        {
            Console.Error.WriteLine("smoke: not configured; add a smoke: section with source and product (README, \"Smoke tests\")");
            return false;
        }
        if (url is null)
        {
            target = smoke.Url;
            return true;
        }
        if (Uri.TryCreate(url, UriKind.Absolute, out var given) && given.Scheme is "http" or "https")
        {
            target = given;
            return true;
        }
        Console.Error.WriteLine($"--url: expected Junction's http(s) address, e.g. {JunctionCli.DefaultUrls}; got '{url}'");
        return false;
    }

    /// <summary>A run buys and refunds for real (in test mode), so it goes in the operations log as the CLI's.</summary>
    public static Task RecordAsync(CliServices cli, SmokeOutcome outcome, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(cli);
        ArgumentNullException.ThrowIfNull(outcome);
        return cli.Get<Admin.OperationsLog>().RecordCliAsync("smoke.run", outcome.Id, new System.Text.Json.Nodes.JsonObject
        {
            ["source"] = cli.Config.Smoke?.Source, ["passed"] = outcome.Passed, ["failed_step"] = outcome.FailedStep,
        }, ct);
    }

    /// <summary>The checklist's line for a live run.</summary>
    public static CheckItem Item(SmokeOutcome outcome) => outcome.Passed
        ? new CheckItem("live smoke run", true, $"{outcome.Id}: lead, purchase, refund and cleanup all read back")
        : new CheckItem("live smoke run", false, $"{outcome.Id} failed at {outcome.FailedStep}: {outcome.Steps[^1].Detail}",
            "fix what the step names, then run junction smoke (GET /v1/smoke lists every run)");
}
