using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Alerts;

/// <summary>
/// A Slack incoming webhook as documented ("Sending messages using incoming webhooks"): POST JSON to
/// the hook URL, answered 200 "ok"; a body without "text" (nor "blocks") is 400 "invalid_payload".
/// </summary>
public sealed class FakeSlack : IAsyncDisposable
{
    public const string Path = "/services/T000/B000/XXXX";

    private FakeSlack() { }

    public FakeApi Api { get; private set; } = null!;

    public Uri Url => new(Api.BaseUrl, Path);

    public ConcurrentQueue<JsonObject> Messages { get; } = new();

    public static async Task<FakeSlack> StartAsync()
    {
        var fake = new FakeSlack();
        fake.Api = await FakeApi.StartAsync(app => app.MapPost(Path, async (HttpContext context) =>
        {
            if (!string.Equals(context.Request.ContentType?.Split(';')[0], "application/json", StringComparison.OrdinalIgnoreCase)) return Results.Text("invalid_payload", statusCode: 400);
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            JsonObject? json;
            try
            {
                json = JsonNode.Parse(body) as JsonObject;
            }
            catch (JsonException)
            {
                return Results.Text("invalid_payload", statusCode: 400);
            }
            if (json is null || (json["text"] is null && json["blocks"] is null)) return Results.Text("invalid_payload", statusCode: 400);
            fake.Messages.Enqueue(json);
            return Results.Text("ok");
        }));
        return fake;
    }

    public ValueTask DisposeAsync() => Api.DisposeAsync();
}

/// <summary>
/// A minimal SMTP server (RFC 5321 without extensions): greets, answers EHLO/HELO, MAIL, RCPT, DATA,
/// RSET, NOOP and QUIT, and keeps each message's envelope and its data (dot-unstuffed).
/// </summary>
public sealed class FakeSmtp : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private FakeSmtp()
    {
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<(string From, IReadOnlyList<string> To, string Data)> Messages { get; } = new();

    public static FakeSmtp Start() => new();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = Task.Run(() => SessionAsync(client));
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync("220 fake-smtp ready");
        string? from = null;
        var to = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            var verb = line.Split(' ', 2)[0].ToUpperInvariant();
            switch (verb)
            {
                case "EHLO" or "HELO":
                    await writer.WriteLineAsync("250 fake-smtp");
                    break;
                case "MAIL":
                    from = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                    to.Clear();
                    await writer.WriteLineAsync("250 OK");
                    break;
                case "RCPT":
                    to.Add(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
                    await writer.WriteLineAsync("250 OK");
                    break;
                case "DATA":
                    await writer.WriteLineAsync("354 end with <CRLF>.<CRLF>");
                    var data = new StringBuilder();
                    while (await reader.ReadLineAsync() is { } d && d != ".") data.Append(d.StartsWith("..", StringComparison.Ordinal) ? d[1..] : d).Append("\r\n");
                    Messages.Enqueue((from ?? "", [.. to], data.ToString()));
                    await writer.WriteLineAsync("250 OK queued");
                    break;
                case "RSET" or "NOOP":
                    await writer.WriteLineAsync("250 OK");
                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 bye");
                    return;
                default:
                    await writer.WriteLineAsync("502 command not implemented");
                    break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
