using System.Diagnostics.Metrics;
using Junction.Intake;
using Junction.Storage;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Junction.Tests.Intake;

/// <summary>The rejection log is lossy under pressure, never blocking, and says how much it dropped.</summary>
public sealed class RejectionLogTests
{
    [Fact]
    public void Add_WithTheWriterNotDraining_NeverBlocks_AndCountsWhatItDrops()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new IntakeMetrics(services.GetRequiredService<IMeterFactory>());
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == IntakeMetrics.MeterName && instrument.Name == "junction.intake.rejections_dropped") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        listener.Start();
        var store = StoreFactory.Open(TestStorage.NewSqlite(), TimeProvider.System);
        // Not started: its writer is as good as blocked, so the queue fills.
        using var log = new RejectionLog(store, metrics, NullLogger<RejectionLog>.Instance, capacity: 4);

        for (var i = 0; i < 10; i++)
        {
            log.Add(new Rejection("stripe-main", "bad_signature", "forged", TimeProvider.System.GetUtcNow(), "{}"));
        }

        Assert.Equal(6, log.Dropped);
        Assert.Equal(6, Interlocked.Read(ref counted));
    }
}
