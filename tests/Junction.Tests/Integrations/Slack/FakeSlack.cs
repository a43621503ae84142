using System.Text.Json.Nodes;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Integrations.Slack;

/// <summary>
/// A Slack incoming webhook as documented (docs.slack.dev/messaging/sending-messages-using-incoming-webhooks,
/// api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks): POST JSON with "text" to
/// the one secret path answers 200 "ok"; a body that is not such JSON 400 invalid_payload; any other path
/// 404 no_service; an archived channel 410 channel_is_archived; switches answer 429 with Retry-After or a 5xx.
/// </summary>
public sealed class FakeSlack : IAsyncDisposable
{
    public const string HookPath = "/services/T0001/B0001/XXXXsecretXXXX";

    private readonly Lock _gate = new();
    private readonly List<string> _messages = [];
    private int _rateLimitNext;
    private string _retryAfter = "1";
    private int _failNext;
    private int _failStatus = 500;

    public FakeApi Api { get; private set; } = null!;

    public string WebhookUrl => new Uri(Api.BaseUrl, HookPath).ToString();

    public bool Archived { get; set; }

    public static async Task<FakeSlack> StartAsync()
    {
        var fake = new FakeSlack();
        fake.Api = await FakeApi.StartAsync(app => app.MapPost("/services/{**rest}", (Func<HttpContext, Task<IResult>>)fake.HandleAsync));
        return fake;
    }

    public void RateLimitNext(int count, string retryAfter = "1")
    {
        lock (_gate) (_rateLimitNext, _retryAfter) = (count, retryAfter);
    }

    public void FailNext(int count, int status = 500)
    {
        lock (_gate) (_failNext, _failStatus) = (count, status);
    }

    /// <summary>Message texts posted to the channel, in order.</summary>
    public IReadOnlyList<string> Messages
    {
        get { lock (_gate) return [.. _messages]; }
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        var text = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        lock (_gate)
        {
            if (_rateLimitNext > 0)
            {
                _rateLimitNext--;
                context.Response.Headers.RetryAfter = _retryAfter;
                return Results.Text("rate_limited", "text/plain", statusCode: 429);
            }
            if (_failNext > 0)
            {
                _failNext--;
                return Results.Text("rollup_error", "text/plain", statusCode: _failStatus);
            }
            if (context.Request.Path != HookPath) return Results.Text("no_service", "text/plain", statusCode: 404);
            if (Archived) return Results.Text("channel_is_archived", "text/plain", statusCode: 410);
            string? message;
            try
            {
                message = JsonNode.Parse(text)?["text"]?.GetValue<string>();
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
            {
                message = null;
            }
            if (string.IsNullOrEmpty(message)) return Results.Text("invalid_payload", "text/plain", statusCode: 400);
            _messages.Add(message);
            return Results.Text("ok", "text/plain");
        }
    }

    public ValueTask DisposeAsync() => Api.DisposeAsync();
}
