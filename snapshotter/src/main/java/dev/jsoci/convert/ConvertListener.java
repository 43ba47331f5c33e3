package dev.jsoci.convert;

/** Receives progress events of a conversion, on the converting thread. */
public interface ConvertListener {
  /** A listener that ignores every event. */
  ConvertListener NONE = new ConvertListener() {};

  /**
   * Called once per distinct layer after it was read, indexed or skipped, and copied.
   *
   * @param number the layer's position among the layers processed so far, from 1
   */
  default void layerDone(LayerReport report, int number) {}
}
