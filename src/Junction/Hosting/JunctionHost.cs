using Junction.Admin;
using Junction.Alerts;
using Junction.Capture;
using Junction.Config;
using Junction.Audit;
using Junction.Dashboard;
using Junction.Dispatch;
using Junction.Intake;
using Junction.Normalize;
using Junction.Observability;
using Junction.Project;
using Junction.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Junction.Hosting;

/// <summary>Builds the web host: one place that wires config, store, intake and the APIs.</summary>
public static class JunctionHost
{
    /// <summary>The largest body any source may accept; Kestrel's own cap sits just above it.</summary>
    private const long KestrelBodyCap = 64L * 1024 * 1024 + 1;

    public static async Task<WebApplication> BuildAsync(
        JunctionConfig config,
        string urls,
        TimeProvider? time = null,
        string? missingConfigPath = null,
        Action<ILoggingBuilder>? logging = null,
        Action<IServiceCollection>? configureServices = null)
    {
        time ??= TimeProvider.System;
        // Junction reads no appsettings files, so nothing should watch the working directory for them:
        // with reload-on-change on, every write to ./data/junction.db woke a file watcher.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = KestrelBodyCap;
            k.AddServerHeader = false;
        });

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        QuietHttpClientLogs(builder.Logging);
        logging?.Invoke(builder.Logging);

        var store = StoreFactory.Open(config.Storage, time);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<IntakeMetrics>();
        builder.Services.AddSingleton<NormalizeSignal>();
        builder.Services.AddSingleton<Project.ProjectSignal>();
        builder.Services.AddSingleton(Project.Planning.For(config));
        builder.Services.AddSingleton<Project.Projector>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Project.Projector>());
        builder.Services.AddSingleton<Erasure.ForgetService>();
        builder.Services.AddSingleton<Normalizer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Normalizer>());
        builder.Services.AddHttpClient(Normalizer.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(15));
        builder.Services.AddSingleton<IntakeWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IntakeWriter>());
        builder.Services.AddSingleton<RejectionLog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RejectionLog>());
        // Verification fetches (PayPal's certificate, IPN's post-back) follow no redirects: the allowlisted host must answer itself.
        builder.Services.AddHttpClient(HookReceiver.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        builder.Services.AddSingleton<RawAppend>();
        builder.Services.AddSingleton<HookReceiver>();
        builder.Services.AddSingleton<AdminAuth>();
        OperationsLog.AddOperationsLog(builder.Services);
        builder.Services.AddSingleton<CaptureIntake>();
        builder.Services.AddSingleton<ApiKeyAuth>();
        builder.Services.AddDispatch(config.Destinations.Values);
        builder.Services.AddAudit(scheduled: true);
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddDashboard();
        builder.Services.AddSingleton<Dashboard.DashboardAuth>();
        builder.Services.AddHostedService<DemoTraffic>();
        builder.Services.AddAlerts(evaluate: true);
        // One attempt per call, bounded; redirects are not followed (a redirected webhook POST would turn into a GET).
        builder.Services.AddHttpClient(Dispatch.Destinations.DestinationConnectors.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        foreach (var destination in config.Destinations.Values)
        {
            builder.Services.AddSingleton(sp => Dispatch.Destinations.DestinationConnectors.Create(destination,
                sp.GetRequiredService<IHttpClientFactory>().CreateClient(Dispatch.Destinations.DestinationConnectors.HttpClientName), time));
        }
        configureServices?.Invoke(builder.Services);
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, JunctionJson.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, CaptureJson.Default);
        });
        builder.Services.AddSingleton<Telemetry.JunctionMetrics>();
        builder.Services.TryAddSingleton(new Telemetry.MetricsPollerOptions());
        builder.Services.AddSingleton<Telemetry.MetricsPoller>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Telemetry.MetricsPoller>());
        var telemetry = builder.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(IntakeMetrics.MeterName, DispatchMetrics.MeterName, Audit.AuditMetrics.MeterName, Telemetry.JunctionMetrics.MeterName)
            .AddPrometheusExporter());
        if (config.OtlpEndpoint is { } otlp)
        {
            // Only with an endpoint configured: otherwise nothing listens to the stage sources and a span costs one check.
            telemetry.WithTracing(t => t
                .AddSource([.. Telemetry.StageTracing.All.Select(s => s.Name)])
                .AddOtlpExporter(o =>
                {
                    o.Endpoint = Telemetry.StageTracing.TracesEndpoint(otlp);
                    o.Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
                }));
        }

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Junction");
        if (config.IsDemo)
        {
            Log.RunningDemo(logger, missingConfigPath ?? "./junction.yaml", StorageUri.Parse(config.Storage).Describe(), config.Sources.Count,
                string.Join(", ", config.Sources.Keys.Order(StringComparer.Ordinal)));
        }
        Log.Starting(logger, config.Path ?? "the demo configuration", StorageUri.Parse(config.Storage).Describe(), config.Sources.Count);
        if (config.OtlpEndpoint is { } exporting) Log.ExportingTraces(logger, Telemetry.StageTracing.TracesEndpoint(exporting).ToString());

        await store.MigrateAsync(CancellationToken.None);
        Log.StoreReady(logger, store.Engine);
        if (store is Storage.RelationalStore relational && await relational.BackfillReadModelAsync(CancellationToken.None) is > 0 and var filled)
        {
            Log.ReadModelBackfilled(logger, filled);
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealth();
        app.MapHooks();
        app.MapAdminApi();
        app.MapNormalizeApi();
        app.MapFormsApi();
        app.MapEventsApi();
        app.MapPeopleApi();
        app.MapIdentityApi();
        app.MapPoisonApi();
        app.MapDispatchApi();
        app.MapAuditApi();
        app.MapSmokeApi();
        app.MapOperationsApi();
        app.MapDashboard();
        app.MapIncidentsApi();
        if (config.MetricsToken is { } metricsToken)
        {
            // Source ids, destination ids and rejection reasons are in the metrics: with metrics.token set they need it.
            var metricsAuth = new BearerTokens([metricsToken]);
            app.Use(async (context, next) =>
            {
                if (context.Request.Path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase) && !metricsAuth.Authorizes(context.Request))
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await Problems.Create(StatusCodes.Status401Unauthorized, "metrics-token", "Unauthorized",
                        "GET /metrics needs 'Authorization: Bearer <token>' with metrics.token.").ExecuteAsync(context);
                    return;
                }
                await next(context);
            });
        }
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>
    /// IHttpClientFactory logs every outbound request URI at Information, and a destination's URI
    /// names the person (Mailchimp paths carry the address's MD5, a Kit query string can carry the
    /// address itself): its handlers are removed, and the category is held at Warning in case one
    /// is added back. Shared by <c>serve</c> and the CLI (<see cref="Cli.CliServices"/>).
    /// </summary>
    public static void QuietHttpClientLogs(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        logging.Services.ConfigureHttpClientDefaults(http => http.RemoveAllLoggers());
    }
}
