using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Junction.Dispatch;

public static class DispatchServices
{
    /// <summary>
    /// Registers the dispatch engine (once) and the given destinations. Connectors are registered
    /// separately as <see cref="IDestinationConnector"/> singletons; a destination without one keeps
    /// its tasks queued.
    /// </summary>
    public static IServiceCollection AddDispatch(this IServiceCollection services, IEnumerable<DestinationConfig> destinations)
    {
        foreach (var d in destinations) services.AddSingleton(d);
        services.TryAddSingleton<DispatchOptions>();
        services.TryAddSingleton<DispatchMetrics>();
        services.TryAddSingleton<Dispatcher>();
        if (!services.Any(s => s.ServiceType == typeof(Registered)))
        {
            services.AddSingleton<Registered>();
            services.AddHostedService(sp => sp.GetRequiredService<Dispatcher>());
        }
        return services;
    }

    /// <summary>A destination and its connector (tests, tools).</summary>
    public static IServiceCollection AddDestination(this IServiceCollection services, IDestinationConnector connector)
    {
        services.AddDispatch([connector.Config]);
        services.AddSingleton(connector);
        return services;
    }

    private sealed class Registered;
}
