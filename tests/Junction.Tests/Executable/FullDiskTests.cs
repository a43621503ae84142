using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Junction.Tests.Executable;

/// <summary>
/// SQLite's own fault: the disk under the database fills up. The real junction process keeps its
/// database on a small loop-mounted ext4 image (a size-limited tmpfs when loop mounting fails);
/// a ballast file takes the last free block. Intake must answer 503 for what it could not store and
/// never 200, and must take events again, without a restart, once the ballast is gone.
/// </summary>
public sealed class FullDiskTests(ITestOutputHelper output)
{
    private const string Secret = "whsec_full_disk_test_secret";
    private const string Token = "full-disk-test-admin-token";

    [Fact]
    public async Task DiskFull_IntakeAnswers503NeverA200ForWhatItDidNotStore_AndRecoversWhenSpaceReturns()
    {
        if (!IsRoot())
        {
            // Mounting needs root; CI runs as root, so there a missing privilege is a failure, not a skip.
            Assert.False(Environment.GetEnvironmentVariable("CI") is "true" or "1", "the full-disk test needs root under CI");
            Assert.Skip("the full-disk test mounts a small filesystem and needs root");
        }

        var dir = TestStorage.NewTempDirectory();
        var mount = Path.Combine(dir, "mnt");
        Directory.CreateDirectory(mount);
        var filesystem = await MountSmallFilesystemAsync(dir, mount);
        output.WriteLine($"database on {filesystem}");
        try
        {
            await RunAsync(dir, mount);
        }
        finally
        {
            await UnmountAsync(mount);
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task RunAsync(string dir, string mount)
    {
        var db = Path.Combine(mount, "junction.db");
        var config = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(config, $"""
            storage: "sqlite:{db}"
            admin:
              tokens: ["{Token}"]
            sources:
              stripe-live:
                provider: stripe
                secrets: ["{Secret}"]
            """);
        var baseAddress = new Uri($"http://127.0.0.1:{JunctionProcess.FreePort()}");
        using var junction = JunctionProcess.Start(dir, null, "serve", "--config", config, "--urls", baseAddress.ToString().TrimEnd('/'));
        await junction.WaitHealthyAsync(baseAddress);
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        var acknowledged = new List<string>();
        var refused = new List<string>();
        var n = 0;
        string? lastRawId = null;
        async Task<HttpStatusCode> Post()
        {
            var eventId = $"evt_disk_{n++}";
            using var response = await PostAsync(client, eventId);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                acknowledged.Add(eventId);
                lastRawId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
            }
            else
            {
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable,
                    $"{eventId}: {(int)response.StatusCode} {problem}\n{string.Join('\n', junction.Output.TakeLast(30))}");
                Assert.EndsWith("/store-unavailable", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
                Assert.Contains("not accepted", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
                refused.Add(eventId);
            }
            return response.StatusCode;
        }

        for (var i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, await Post());

        // Take every free block, then post until intake refuses a run of events (bounded).
        var ballast = Path.Combine(mount, "ballast");
        var filled = Fill(ballast);
        output.WriteLine($"ballast: {filled / 1024} KiB");
        var posting = Stopwatch.StartNew();
        var refusedInARow = 0;
        while (refusedInARow < 20 && posting.Elapsed < TimeSpan.FromSeconds(90) && !junction.HasExited)
        {
            refusedInARow = await Post() == HttpStatusCode.ServiceUnavailable ? refusedInARow + 1 : 0;
        }
        output.WriteLine($"disk full: {acknowledged.Count} acknowledged, {refused.Count} refused after {posting.Elapsed.TotalSeconds:0.0} s");
        Assert.False(junction.HasExited, "junction exited on a full disk:\n" + string.Join('\n', junction.Output.TakeLast(40)));
        Assert.True(refusedInARow >= 20, $"intake never refused 20 events in a row on a full disk ({refused.Count} refused in all)");

        // Space returns: intake takes events again, in the same process.
        File.Delete(ballast);
        var recovering = Stopwatch.StartNew();
        while (await Post() != HttpStatusCode.OK)
        {
            Assert.True(recovering.Elapsed < TimeSpan.FromSeconds(30), "intake still refused events 30 s after space returned:\n"
                + string.Join('\n', junction.Output.TakeLast(40)));
            await Task.Delay(200);
        }
        for (var i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, await Post());
        output.WriteLine($"recovered in {recovering.Elapsed.TotalSeconds:0.0} s");

        // Every 200 is in the log, once; nothing answered 503 was kept as if it had been accepted.
        var stored = new Dictionary<string, int>(StringComparer.Ordinal);
        string? after = null;
        do
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/v1/raw-events?source=stripe-live&limit=1000{(after is null ? "" : "&after=" + after)}");
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                var key = item.GetProperty("dedup_key").GetString()!;
                stored[key] = stored.GetValueOrDefault(key) + 1;
            }
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        } while (after is not null);
        Assert.All(acknowledged, id => Assert.True(stored.GetValueOrDefault(id) == 1, $"{id} was answered 200 but is stored {stored.GetValueOrDefault(id)} times"));
        Assert.All(refused, id => Assert.False(stored.ContainsKey(id), $"{id} was answered 503 but is stored"));
        Assert.Equal(acknowledged.Count, stored.Count);

        // The stages behind intake came through too: the last event is normalized, not stuck behind a failed write.
        var normalizing = Stopwatch.StartNew();
        string? status = null;
        while (normalizing.Elapsed < TimeSpan.FromSeconds(60))
        {
            var events = await client.GetFromJsonAsync<JsonElement>($"/v1/events?raw_id={lastRawId}");
            status = events.TryGetProperty("normalization", out var view) && view.ValueKind == JsonValueKind.Object ? view.GetProperty("status").GetString() : null;
            if (status is "mapped" or "ignored" or "quarantined") break;
            await Task.Delay(200);
        }
        Assert.True(status == "mapped", $"the last event after the disk emptied is '{status}', not mapped:\n" + string.Join('\n', junction.Output.TakeLast(40)));
        Assert.False(junction.HasExited);

        junction.KillHard();
        await using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", (string?)await cmd.ExecuteScalarAsync());
    }

    /// <summary>Writes zeros until the filesystem says it is full; returns how many bytes went in.</summary>
    private static long Fill(string path)
    {
        long written = 0;
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        foreach (var size in new[] { 1 << 20, 64 << 10, 4 << 10, 512 })
        {
            var chunk = new byte[size];
            try
            {
                while (true)
                {
                    file.Write(chunk);
                    written += size;
                }
            }
            catch (IOException)
            {
                // ENOSPC: try the next, smaller chunk size for what is left.
            }
        }
        try
        {
            file.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
        }
        return written;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string eventId)
    {
        // Padding makes each event a few pages, so the database needs new blocks quickly.
        var body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Payloads.StripePaymentIntentSucceeded(eventId))
            .Replace("\"utm_campaign\": \"launch\"", $"\"utm_campaign\": \"launch\", \"pad\": \"{new string('p', 8192)}\"", StringComparison.Ordinal));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/hooks/stripe-live") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Stripe-Signature", Sign.Stripe(Secret, body, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()));
        return await client.SendAsync(request);
    }

    private static bool IsRoot() =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?
            .Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) == "0";

    /// <summary>A 24 MiB ext4 image on a loop device; a 24 MiB tmpfs when the loop mount fails. Says which.</summary>
    private static async Task<string> MountSmallFilesystemAsync(string dir, string mount)
    {
        var image = Path.Combine(dir, "disk.img");
        await using (var file = new FileStream(image, FileMode.CreateNew)) file.SetLength(24 << 20);
        var (mkfs, mkfsOutput) = await RunAsync("mkfs.ext4", "-q", "-F", image);
        if (mkfs == 0)
        {
            var (loop, loopOutput) = await RunAsync("mount", "-o", "loop", image, mount);
            if (loop == 0) return "a 24 MiB ext4 image, loop-mounted";
            mkfsOutput = loopOutput;
        }
        var (tmpfs, tmpfsOutput) = await RunAsync("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount);
        Assert.True(tmpfs == 0, $"neither a loop mount ({mkfsOutput}) nor a tmpfs ({tmpfsOutput}) could be mounted");
        return "a 24 MiB tmpfs (the loop mount failed: " + mkfsOutput.Trim() + ")";
    }

    private static async Task UnmountAsync(string mount)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var (code, _) = await RunAsync("umount", mount);
            if (code == 0) return;
            await Task.Delay(300);
        }
        await RunAsync("umount", "-l", mount);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
