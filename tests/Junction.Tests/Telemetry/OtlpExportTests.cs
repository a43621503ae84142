using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Junction.Dispatch;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Project;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Junction.Tests.Capture.CaptureKit;

namespace Junction.Tests.Telemetry;

/// <summary>
/// Traces over OTLP/HTTP to a local collector: with <c>telemetry.otlp_endpoint</c> set, a span of
/// each stage reaches POST /v1/traces carrying the trace id the caller's traceparent gave the raw
/// event (intake, normalize, project, dispatch), and an audit's span carries the audit's trace id.
/// </summary>
[Collection(ScrapedAlone.Name)]
public sealed class OtlpExportTests
{
    [Fact]
    public async Task EachStage_ExportsASpan_InTheRawEventsTrace()
    {
        await using var collector = await Collector.StartAsync();
        await using var hook = await FakeWebhookReceiver.StartAsync(JunctionServer.StandardSecret);
        var destination = new DestinationConfig
        {
            Id = "hook", Type = DestinationTypes.Webhook, Traits = DestinationTypes.TraitsOf(DestinationTypes.Webhook), BaseUrl = hook.Url, RateLimit = 100, Events = ["optin"],
            Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["secret"] = JunctionServer.StandardSecret },
        };
        await using var server = await JunctionServer.StartAsync(ProjectKit.Config(TestStorage.NewSqlite()) with
        {
            Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal) { ["hook"] = destination },
            OtlpEndpoint = collector.BaseUrl,
        });

        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events")
        {
            Content = new StringContent(ProjectKit.OptIn("ada@example.com", "2026-11-20T11:00:00Z"), Encoding.UTF8, "application/json"),
        })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
            using var response = await server.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(traceId, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("trace_id").GetString());
        }
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(15);
        while (hook.Processed.Count == 0 && TimeProvider.System.GetUtcNow() < deadline) await Task.Delay(50);
        Assert.Single(hook.Processed);

        using var started = await server.Admin.PostAsync("/v1/audits", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var auditId = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        var wanted = new[]
        {
            ("Junction.Intake", "intake", traceId), ("Junction.Normalize", "normalize", traceId), ("Junction.Project", "project", traceId),
            ("Junction.Dispatch", "dispatch", traceId), ("Junction.Audit", "audit", auditId[4..36]),
        };
        deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while (TimeProvider.System.GetUtcNow() < deadline && !wanted.All(w => collector.Spans.Contains(w))) await Task.Delay(200);
        Assert.All(wanted, w => Assert.True(collector.Spans.Contains(w),
            $"no {w.Item2} span from {w.Item1} in trace {w.Item3}; received: {string.Join(", ", collector.Spans.Select(s => $"{s.Scope}/{s.Name}/{s.TraceId}"))}"));
    }

    /// <summary>A collector that keeps (scope, span name, trace id) of every span posted to /v1/traces as OTLP protobuf.</summary>
    private sealed class Collector : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Collector(WebApplication app, Uri baseUrl)
        {
            _app = app;
            BaseUrl = baseUrl;
        }

        public Uri BaseUrl { get; }

        public ConcurrentBag<(string Scope, string Name, string TraceId)> Spans { get; } = [];

        public static async Task<Collector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            Collector? collector = null;
            app.MapPost("/v1/traces", async (HttpRequest request) =>
            {
                Assert.Equal("application/x-protobuf", request.ContentType);
                using var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer);
                foreach (var span in Otlp.Spans(buffer.ToArray())) collector!.Spans.Add(span);
                return Results.Bytes([], "application/x-protobuf");
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            collector = new Collector(app, new Uri(address));
            return collector;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>
    /// Just enough of the protobuf wire format to walk ExportTraceServiceRequest → ResourceSpans (2:
    /// scope_spans) → ScopeSpans (1: scope, 2: spans) → Span (1: trace_id, 5: name); InstrumentationScope 1: name.
    /// </summary>
    private static class Otlp
    {
        public static IEnumerable<(string Scope, string Name, string TraceId)> Spans(byte[] request)
        {
            foreach (var resourceSpans in Fields(request, 1))
            {
                foreach (var scopeSpans in Fields(resourceSpans, 2))
                {
                    var scope = Fields(scopeSpans, 1).Select(s => Text(Fields(s, 1).FirstOrDefault())).FirstOrDefault() ?? "";
                    foreach (var span in Fields(scopeSpans, 2))
                    {
                        yield return (scope, Text(Fields(span, 5).FirstOrDefault()), Convert.ToHexStringLower(Fields(span, 1).FirstOrDefault() ?? []));
                    }
                }
            }
        }

        private static string Text(byte[]? bytes) => bytes is null ? "" : Encoding.UTF8.GetString(bytes);

        /// <summary>The length-delimited fields numbered <paramref name="number"/> of one message; others are skipped.</summary>
        private static List<byte[]> Fields(byte[] message, int number)
        {
            var found = new List<byte[]>();
            var i = 0;
            while (i < message.Length)
            {
                var key = Varint(message, ref i);
                var (field, wire) = ((int)(key >> 3), (int)(key & 7));
                switch (wire)
                {
                    case 0: Varint(message, ref i); break;
                    case 1: i += 8; break;
                    case 5: i += 4; break;
                    case 2:
                        var length = (int)Varint(message, ref i);
                        if (field == number) found.Add(message[i..(i + length)]);
                        i += length;
                        break;
                    default: throw new InvalidDataException($"wire type {wire} at {i}");
                }
            }
            return found;
        }

        private static ulong Varint(byte[] data, ref int i)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = data[i++];
                value |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0) return value;
            }
        }
    }
}
