using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Junction.Audit;

public static class AuditServices
{
    /// <summary>The audit runner and what it reads with; <paramref name="scheduled"/> adds the elected scheduler (serve only).</summary>
    public static IServiceCollection AddAudit(this IServiceCollection services, bool scheduled)
    {
        services.TryAddSingleton<AuditMetrics>();
        services.TryAddSingleton<PaymentReadBacks>();
        services.TryAddSingleton<AuditRunner>();
        services.TryAddSingleton<Checklist>();
        services.TryAddSingleton<SmokeRunner>();
        if (scheduled)
        {
            services.AddHostedService<SmokeScheduler>();
            services.TryAddSingleton<AuditScheduler>();
            services.AddHostedService(sp => sp.GetRequiredService<AuditScheduler>());
        }
        return services;
    }
}
