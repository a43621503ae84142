using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Junction.Tests.Support;

/// <summary>The real <c>junction</c> executable as a child process (dotnet Junction.dll …).</summary>
public sealed class JunctionProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    private JunctionProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); _stdout.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); _stderr.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "Junction.dll");

    public IReadOnlyList<string> Output => [.. _output];

    public bool HasExited => _process.HasExited;

    /// <summary>The process id (the dotnet host runs Junction in-process), for reading /proc.</summary>
    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    public static JunctionProcess Start(string workingDirectory, IDictionary<string, string?>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) info.Environment[k] = v;
        return new JunctionProcess(Process.Start(info)!);
    }

    /// <summary>Runs a verb to completion and returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, IDictionary<string, string?>? environment, params string[] args)
    {
        using var p = Start(workingDirectory, environment, args);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p._process.WaitForExitAsync(timeout.Token);
        p._process.WaitForExit(); // flushes the async output readers
        return (p._process.ExitCode, string.Join('\n', p.Output));
    }

    /// <summary>Runs a verb to completion; stdout and stderr apart (a verb whose stdout is data keeps everything else on stderr).</summary>
    public static async Task<(int ExitCode, IReadOnlyList<string> Stdout, string Stderr)> RunSplitAsync(string workingDirectory, IDictionary<string, string?>? environment, params string[] args)
    {
        using var p = Start(workingDirectory, environment, args);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await p._process.WaitForExitAsync(timeout.Token);
        p._process.WaitForExit(); // flushes the async output readers
        return (p._process.ExitCode, [.. p._stdout], string.Join('\n', p._stderr));
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task WaitHealthyAsync(Uri baseAddress)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"junction exited with {_process.ExitCode}:\n{string.Join('\n', Output)}");
            }
            try
            {
                using var r = await client.GetAsync("/readyz");
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"junction did not become ready:\n{string.Join('\n', Output)}");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing; what is durable is what was committed.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited) KillHard();
        _process.Dispose();
    }
}
