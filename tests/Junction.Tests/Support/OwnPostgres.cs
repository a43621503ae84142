using System.Diagnostics;
using Npgsql;

namespace Junction.Tests.Support;

/// <summary>
/// A throw-away PostgreSQL server of the test's own (scripts/pg.sh's recipe: initdb as the postgres
/// user, pg_ctl on a free loopback port, data under /tmp), for tests that stop and restart the
/// database, which the shared server of the rest of the suite must never see.
/// </summary>
public sealed class OwnPostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dir;
    private readonly bool _asPostgresUser;

    private OwnPostgres(string bin, string dir, int port, bool asPostgresUser)
    {
        _bin = bin;
        _dir = dir;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=junction;Database=junction;Timeout=5";

    public static async Task<OwnPostgres> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;
        if (bin is null)
        {
            if (Environment.GetEnvironmentVariable("CI") is "true" or "1") throw new InvalidOperationException("no PostgreSQL server binaries under /usr/lib/postgresql");
            Assert.Skip("no PostgreSQL server binaries under /usr/lib/postgresql (scripts/pg.sh installs them)");
        }
        var dir = Directory.CreateTempSubdirectory("junction-ownpg.").FullName;
        var root = Environment.UserName == "root";
        if (root)
        {
            // initdb refuses root: the server runs as postgres (created as scripts/pg.sh does when missing).
            if (await RunAsync("id", ["-u", "postgres"], ignoreFailure: true) != 0)
            {
                await RunAsync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"]);
            }
            await RunAsync("chown", ["postgres", dir]);
        }
        var pg = new OwnPostgres(bin, dir, JunctionProcess.FreePort(), root);
        await pg.RunPgAsync("initdb", ["-D", Path.Combine(dir, "data"), "-U", "junction", "--auth=trust", "-E", "UTF8"]);
        await pg.StartAgainAsync();
        await using (var c = new NpgsqlConnection($"Host=127.0.0.1;Port={pg.Port};Username=junction;Database=postgres"))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE DATABASE junction", c);
            await cmd.ExecuteNonQueryAsync();
        }
        return pg;
    }

    /// <summary><c>pg_ctl stop -m fast</c>: every connection is cut.</summary>
    public Task<int> StopAsync() => RunPgAsync("pg_ctl", ["-D", Path.Combine(_dir, "data"), "-m", "fast", "-w", "stop"]);

    /// <summary>Starts the stopped server (with its options again: a plain <c>pg_ctl start</c> would listen on the default port).</summary>
    public Task<int> StartAgainAsync() => RunPgAsync("pg_ctl", ["-D", Path.Combine(_dir, "data"), "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60",
        "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {_dir} -c max_connections=300 -c fsync=off", "start"]);

    /// <summary><c>pg_ctl restart -m fast</c>.</summary>
    public Task<int> RestartAsync() => RunPgAsync("pg_ctl", ["-D", Path.Combine(_dir, "data"), "-l", Path.Combine(_dir, "server.log"), "-m", "fast", "-w", "-t", "60", "restart"]);

    private Task<int> RunPgAsync(string tool, string[] args) =>
        _asPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args]) : RunAsync(Path.Combine(_bin, tool), args);

    private static async Task<int> RunAsync(string file, string[] args, bool ignoreFailure = false)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0 && !ignoreFailure)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await output}{await error}");
        }
        return p.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunPgAsync("pg_ctl", ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
