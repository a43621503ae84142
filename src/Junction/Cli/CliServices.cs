using Junction.Audit;
using Junction.Config;
using Junction.Normalize;
using Junction.Storage;

namespace Junction.Cli;

/// <summary>The pieces a CLI verb needs without the web host: config, store (migrated), HTTP clients and the normalizer.</summary>
public sealed class CliServices : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private CliServices(ServiceProvider provider) => _provider = provider;

    public JunctionConfig Config => _provider.GetRequiredService<JunctionConfig>();
    public IJunctionStore Store => _provider.GetRequiredService<IJunctionStore>();
    public Normalizer Normalizer => _provider.GetRequiredService<Normalizer>();
    public Project.Projector Projector => _provider.GetRequiredService<Project.Projector>();
    public IHttpClientFactory Http => _provider.GetRequiredService<IHttpClientFactory>();
    public TimeProvider Time => _provider.GetRequiredService<TimeProvider>();

    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    public static async Task<CliServices> CreateAsync(JunctionConfig config, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddLogging(l =>
        {
            l.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
            // Logs go to stderr: stdout carries a verb's result (an export's rows, an import's summary line).
            l.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            Hosting.JunctionHost.QuietHttpClientLogs(l);
        });
        services.AddSingleton(config);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => StoreFactory.Open(config.Storage, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<NormalizeSignal>();
        services.AddSingleton<Project.ProjectSignal>();
        services.AddSingleton(Project.Planning.For(config));
        services.AddSingleton<Project.Projector>();
        services.AddSingleton<Normalizer>();
        services.AddSingleton<Erasure.ForgetService>();
        services.AddHttpClient(Normalizer.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddHttpClient(Dispatch.Destinations.DestinationConnectors.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddMetrics();
        services.AddAudit(scheduled: false);
        Admin.OperationsLog.AddOperationsLog(services);
        Alerts.AlertServices.AddAlerts(services, evaluate: false);
        var cli = new CliServices(services.BuildServiceProvider());
        await cli.Store.MigrateAsync(cancellationToken);
        return cli;
    }

    public async ValueTask DisposeAsync() => await _provider.DisposeAsync();
}

/// <summary>A progress bar per phase on a terminal (one line rewritten in place); a line every few seconds otherwise.</summary>
public sealed class ConsoleProgressBar : Project.IRebuildProgress
{
    private const int Width = 30;
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private readonly object _gate = new();
    private string? _phase;
    private long _lastLine;

    public void Report(string phase, long done, long total)
    {
        lock (_gate)
        {
            var finished = done >= total;
            if (phase != _phase)
            {
                if (_phase is not null && _terminal) Console.Error.WriteLine();
                _phase = phase;
                _lastLine = 0;
            }
            var fraction = total > 0 ? Math.Clamp((double)done / total, 0, 1) : 1;
            var filled = (int)(fraction * Width);
            var line = $"{phase,-22} [{new string('#', filled)}{new string('.', Width - filled)}] {fraction,4:P0} {done}/{total}";
            if (_terminal)
            {
                Console.Error.Write("\r" + line);
            }
            else if (finished || Environment.TickCount64 - _lastLine > 2000)
            {
                Console.Error.WriteLine(line);
                _lastLine = Environment.TickCount64;
            }
        }
    }

    public void Done()
    {
        if (_terminal && _phase is not null) Console.Error.WriteLine();
    }
}

/// <summary>Progress for long work: a line that rewrites itself on a terminal, periodic lines otherwise.</summary>
public sealed class ConsoleProgress(string label) : IProgress<int>
{
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private long _lastLine;

    public void Report(int value)
    {
        if (_terminal)
        {
            Console.Error.Write($"\r{label}: {value}   ");
        }
        else if (Environment.TickCount64 - _lastLine > 1000)
        {
            Console.Error.WriteLine($"{label}: {value}");
            _lastLine = Environment.TickCount64;
        }
    }

    public void Done(int value)
    {
        if (_terminal) Console.Error.WriteLine($"\r{label}: {value}   ");
        else Console.Error.WriteLine($"{label}: {value}");
    }
}
