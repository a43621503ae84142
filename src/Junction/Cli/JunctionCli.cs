using System.CommandLine;
using Junction.Config;
using Junction.Hosting;

namespace Junction.Cli;

/// <summary>The <c>junction</c> command line: one verb per operation.</summary>
public static class JunctionCli
{
    public const string DefaultConfigPath = "./junction.yaml";
    public const string DefaultUrls = "http://127.0.0.1:5080";

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Junction: the event hub for a creator's revenue stack.")
        {
            ServeCommand(),
            CheckConfigCommand(),
            NormalizeCommands.Quarantine(ConfigOption),
            NormalizeCommands.Backfill(ConfigOption),
            PeopleCommands.Trace(ConfigOption),
            PeopleCommands.Rebuild(ConfigOption),
            PeopleCommands.Forget(ConfigOption),
            IdentityCommands.Identity(ConfigOption),
            DispatchCommands.Dlq(ConfigOption),
            DispatchCommands.Pause(ConfigOption),
            DispatchCommands.Resume(ConfigOption),
            AuditCommands.Audit(ConfigOption),
            ChecklistCommands.Checklist(ConfigOption),
            SmokeCommands.Smoke(ConfigOption),
            IncidentCommands.Incidents(ConfigOption),
            ImportExportCommands.Import(ConfigOption),
            ImportExportCommands.Export(ConfigOption),
        };
        return await root.Parse(args).InvokeAsync();
    }

    private static Option<string> ConfigOption() => new("--config", "-c")
    {
        Description = $"The config file (YAML). Default: {DefaultConfigPath}",
        DefaultValueFactory = _ => DefaultConfigPath,
    };

    private static Command ServeCommand()
    {
        // No default value: serve must tell "--config given" from "nothing given", because only the latter may run the demo.
        var config = new Option<string?>("--config", "-c")
        {
            Description = $"The config file (YAML). Default: {DefaultConfigPath}; without --config and without that file, the demo (loopback only).",
        };
        var urls = new Option<string>("--urls")
        {
            Description = $"Where to listen. Default: {DefaultUrls}",
            DefaultValueFactory = _ => DefaultUrls,
        };
        var command = new Command("serve", "Receive webhooks and run the pipeline.") { config, urls };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var explicitPath = parse.GetValue(config);
            var path = explicitPath ?? DefaultConfigPath;
            var listen = parse.GetValue(urls)!;
            JunctionConfig loaded;
            if (File.Exists(path))
            {
                try
                {
                    loaded = ConfigLoader.LoadFile(path);
                }
                catch (ConfigException ex)
                {
                    await Console.Error.WriteLineAsync($"junction: {path} is not valid:");
                    foreach (var error in ex.Errors) await Console.Error.WriteLineAsync($"  {error}");
                    return 2;
                }
            }
            else if (explicitPath is not null)
            {
                // A typo in --config must not start the demo, whose secrets are published.
                await Console.Error.WriteLineAsync($"junction: config file {explicitPath} not found (given with --config); not starting.");
                return 2;
            }
            else if (DemoConfig.Refusal(listen, Environment.GetEnvironmentVariable) is { } refusal)
            {
                await Console.Error.WriteLineAsync($"junction: no config file at {path}, so this would be the demo configuration, but {refusal}");
                return 2;
            }
            else
            {
                loaded = DemoConfig.Create();
            }

            await using var app = await JunctionHost.BuildAsync(loaded, listen, missingConfigPath: path);
            await app.StartAsync(cancellationToken);
            if (loaded.IsDemo && NonLoopbackAddresses(app) is { Count: > 0 } outside)
            {
                // --urls was checked before binding; this catches listeners added by the environment (Kestrel__Endpoints__…, ASPNETCORE_HTTP_PORTS).
                await Console.Error.WriteLineAsync($"junction: the demo configuration listens on loopback only, but the environment made it listen on {string.Join(", ", outside)}; stopping.");
                await app.StopAsync(CancellationToken.None);
                return 2;
            }
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    private static List<string> NonLoopbackAddresses(Microsoft.AspNetCore.Builder.WebApplication app) =>
        [.. (app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [])
            .Where(a => !DemoConfig.IsLoopbackUrl(a))];

    private static Command CheckConfigCommand()
    {
        var config = ConfigOption();
        var command = new Command("check-config", "Validate a config file and report every error with its key path.") { config };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(config)!;
            if (!File.Exists(path))
            {
                Console.Out.WriteLine($"config: file {path} not found");
                return 2;
            }
            try
            {
                var loaded = ConfigLoader.LoadFile(path);
                Console.Out.WriteLine(Summary(loaded));
                return 0;
            }
            catch (ConfigException ex)
            {
                Console.Out.WriteLine($"{path}: {ex.Errors.Count} error{(ex.Errors.Count == 1 ? "" : "s")}");
                foreach (var error in ex.Errors) Console.Out.WriteLine(error.ToString());
                return 2;
            }
        });
        return command;
    }

    internal static string Summary(JunctionConfig config)
    {
        var sources = string.Join(", ", config.Sources.Values.Select(s => $"{s.Id} ({s.Provider}, {s.Secrets.Count} secret{(s.Secrets.Count == 1 ? "" : "s")})"));
        return $"{config.Path}: OK: storage {StorageUri.Parse(config.Storage).Describe()}; {config.Sources.Count} source{(config.Sources.Count == 1 ? "" : "s")}: {sources}; {config.Admin.Tokens.Count} admin token{(config.Admin.Tokens.Count == 1 ? "" : "s")}";
    }
}
