// Bootstraps the example on @nestjs/platform-express or @nestjs/platform-fastify.
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';

export type Platform = 'express' | 'fastify';

/** Creates the app with the global prefix `api` (routes are `/api/servers/...`). */
export async function createApp(platform: Platform, module: unknown = AppModule): Promise<INestApplication> {
  const adapter = platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(module as typeof AppModule, adapter, { logger: ['error', 'warn'] });
  app.setGlobalPrefix('api');
  app.enableShutdownHooks(); // closes the guard's connections on SIGTERM
  return app;
}
