using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Junction.Alerts;

public static class AlertServices
{
    /// <summary>Signals, notifiers and incident actions; <paramref name="evaluate"/> adds the elected evaluator (serve only).</summary>
    public static IServiceCollection AddAlerts(this IServiceCollection services, bool evaluate)
    {
        // Notifications follow no redirects (a redirected POST would turn into a GET) and give up after 10 s.
        services.AddHttpClient(AlertNotifiers.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.TryAddSingleton<AlertSignals>();
        services.TryAddSingleton<AlertNotifiers>();
        services.TryAddSingleton<IncidentActions>();
        if (evaluate)
        {
            services.TryAddSingleton<AlertEvaluator>();
            services.AddHostedService(sp => sp.GetRequiredService<AlertEvaluator>());
        }
        return services;
    }
}
